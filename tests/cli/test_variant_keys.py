"""Variant keys are data: spaces, commas, quotes and any printable text, end to end; and
weights that sum to 1 within 1e-6 are normalised."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipit.assign import Assigner
from shipit.cli.main import app
from shipit.errors import SpecError
from shipit.report import render_html, render_markdown, to_text
from shipit.spec import load_experiment
from shipit.spec.experiment import WEIGHT_TOLERANCE, Experiment

runner = CliRunner()
KEYS = ["old page", 'new, "better" page', "café | ünï 3"]

SPEC = """\
key: landing
variants:
  - {key: "old page", weight: 0.333333}
  - {key: 'new, "better" page', weight: 0.333333}
  - {key: "café | ünï 3", weight: 0.333333}
metrics:
  - {name: converted, event: signup, aggregation: any}
"""


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "landing.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_weights_typed_to_six_places_are_normalised(spec_file: Path) -> None:
    exp = load_experiment(spec_file)
    assert exp.variant_keys == tuple(KEYS)
    assert exp.weights == pytest.approx([1 / 3] * 3, abs=1e-15)
    assert sum(exp.weights) == pytest.approx(1.0, abs=1e-15)


def test_weights_off_by_more_than_the_tolerance_are_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(SPEC.replace("0.333333}", "0.33333}"), encoding="utf-8")
    with pytest.raises(SpecError, match=r"weights must sum to 1, got .* = 0\.99999"):
        load_experiment(path)
    assert WEIGHT_TOLERANCE == 1e-6


@pytest.mark.parametrize(("key", "why"), [("  ", "blank"), ("a\tb", "control character")])
def test_blank_or_control_characters_are_refused(key: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        Experiment.model_validate(
            {"key": "k", "variants": [{"key": key, "weight": 0.5}, {"key": "b", "weight": 0.5}]}
        )


def test_keys_with_spaces_assign_store_and_report(spec_file: Path, tmp_path: Path) -> None:
    units = tmp_path / "units.txt"
    units.write_text("".join(f"user-{i}\n" for i in range(600)))
    result = runner.invoke(app, ["assign", str(spec_file), "--units", str(units)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assigner = Assigner(load_experiment(spec_file))
    assert all(r["variant"] == assigner.assign(r["unit"]).variant for r in rows)
    assert {r["variant"] for r in rows} == set(KEYS)

    exposures = tmp_path / "exposures.csv"
    events = tmp_path / "events.csv"
    with exposures.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["experiment", "unit_id", "variant", "timestamp"])
        for r in rows:
            w.writerow(["landing", r["unit"], r["variant"], "2024-01-01T00:00:00Z"])
    with events.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["unit_id", "event", "timestamp"])
        for i, r in enumerate(rows):
            if i % (3 if r["variant"] == KEYS[1] else 4) == 0:
                w.writerow([r["unit"], "signup", "2024-01-01T01:00:00Z"])
    store = tmp_path / "store.duckdb"
    for table, path in (("exposures", exposures), ("events", events)):
        out = runner.invoke(app, ["load", table, str(path), "--store", str(store)])
        assert out.exit_code == 0, out.output

    result = runner.invoke(
        app, ["analyze", str(spec_file), "--store", str(store), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body["units"]) == set(KEYS)
    counts = {k: sum(r["variant"] == k for r in rows) for k in KEYS}
    assert body["units"] == counts
    assert {e["variant"] for e in body["effects"]} == set(KEYS[1:])

    from shipit.analysis import analyze
    from shipit.store.duckdb import DuckDBEngine

    analysis = analyze(load_experiment(spec_file), DuckDBEngine(store))
    md = render_markdown(analysis)
    assert "café \\| ünï 3" in md  # a pipe in a key does not split the table
    assert "new, &#34;better&#34; page" in render_html(analysis)  # escaped, kept
    assert "old page" in to_text(analysis)


def test_a_registered_experiment_keeps_the_keys(spec_file: Path) -> None:
    result = runner.invoke(app, ["experiment", "create", str(spec_file)])
    assert result.exit_code == 0, result.output
    from shipit.registry import open_registry

    repo = open_registry(None)
    try:
        assert repo.get("landing").experiment.variant_keys == tuple(KEYS)
    finally:
        repo.close()
