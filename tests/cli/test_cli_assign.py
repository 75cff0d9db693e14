"""``shipit assign``: from a spec file or a registered key, CSV or JSONL out."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shipit.assign import Assigner
from shipit.cli.main import app
from shipit.errors import InputError
from shipit.spec import load_experiment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


def test_assign_from_a_spec_file_matches_the_library(tmp_path: Path) -> None:
    units = tmp_path / "units.txt"
    units.write_text("".join(f"user-{i}\n" for i in range(300)) + "qa-bot-1\ndesigner-7\n")
    spec = EXAMPLES / "checkout_button.yaml"
    result = runner.invoke(app, ["assign", str(spec), "--units", str(units)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "unit,variant,reason"
    assert lines[-2:] == ["qa-bot-1,,excluded", "designer-7,green,forced"]
    assigner = Assigner(load_experiment(spec))
    for line in lines[1:-2]:
        unit, variant, reason = line.split(",")
        expected = assigner.assign(unit)
        assert variant == (expected.variant or "")
        assert reason == ("" if expected.reason.value == "assigned" else expected.reason.value)
    assert any(line.endswith(",outside_traffic") for line in lines)


def test_assign_a_registered_experiment_with_attributes(tmp_path: Path) -> None:
    spec = EXAMPLES / "search_ranking.yaml"
    runner.invoke(app, ["experiment", "create", str(spec)])
    units = tmp_path / "units.csv"
    units.write_text("user_id\n" + "".join(f"u{i}\n" for i in range(200)))
    attrs = tmp_path / "attrs.jsonl"
    attrs.write_text(
        "".join(
            json.dumps(
                {
                    "user_id": f"u{i}",
                    "country": "US" if i % 2 else "FR",
                    "age": 30,
                    "platform": "web",
                }
            )
            + "\n"
            for i in range(200)
        )
    )
    result = runner.invoke(
        app,
        [
            "assign",
            "search-ranking-v3",
            "--units",
            str(units),
            "--attributes",
            str(attrs),
            "--format",
            "jsonl",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 200
    assert all(r["reason"] == "not_targeted" for r in rows[0::2])
    assigner = Assigner(load_experiment(spec))
    for i, row in enumerate(rows):
        got = assigner.assign(
            row["unit"], {"country": "US" if i % 2 else "FR", "age": "30", "platform": "web"}
        )
        assert (row["variant"], row["reason"]) == (got.variant, got.reason.value)


def test_missing_units_file_is_an_input_error(tmp_path: Path) -> None:
    spec = EXAMPLES / "checkout_button.yaml"
    result = runner.invoke(app, ["assign", str(spec), "--units", str(tmp_path / "none.txt")])
    assert isinstance(result.exception, InputError)


def test_an_empty_csv_cell_is_a_missing_attribute(tmp_path: Path) -> None:
    """``country ne US`` holds for FR, but not for a unit whose country is unknown."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "key: ne\nvariants: [{key: a, weight: 0.5}, {key: b, weight: 0.5}]\n"
        "targeting: {attribute: country, ne: US}\n"
    )
    units = tmp_path / "units.txt"
    units.write_text("u1\nu2\nu3\n")
    attrs = tmp_path / "attrs.csv"
    attrs.write_text("unit,country\nu1,FR\nu2,\nu3,US\n")
    result = runner.invoke(
        app, ["assign", str(spec), "--units", str(units), "--attributes", str(attrs)]
    )
    assert result.exit_code == 0, result.output
    reasons = [line.split(",")[2] for line in result.output.splitlines()[1:]]
    assert reasons == ["", "not_targeted", "not_targeted"]
