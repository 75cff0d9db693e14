"""``shipit boundaries`` and ``shipit simulate peeking`` through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipit.cli.main import app

runner = CliRunner()


def test_boundaries_json_matches_the_published_obf_bounds() -> None:
    out = runner.invoke(
        app, ["boundaries", "--spending", "obf", "--looks", "4", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    z = [row["z"] for row in data["looks"]]
    assert z == pytest.approx([4.3326, 2.9631, 2.3590, 2.0141], abs=2e-3)
    assert data["looks"][-1]["alpha_spent"] == pytest.approx(0.05)
    assert data["sides"] == 2
    assert data["inflation"] > 1


def test_boundaries_with_fractions_power_family_and_classical() -> None:
    out = runner.invoke(
        app,
        [
            "boundaries",
            "--spending",
            "power",
            "--rho",
            "3",
            "--fractions",
            "0.2,0.5,1",
            "--sides",
            "1",
            "--alpha",
            "0.025",
            "--format",
            "json",
        ],
    )
    data = json.loads(out.output)
    assert [row["fraction"] for row in data["looks"]] == [0.2, 0.5, 1.0]
    assert data["looks"][0]["alpha_spent"] == pytest.approx(0.025 * 0.2**3)
    assert data["rho"] == 3.0
    out = runner.invoke(
        app, ["boundaries", "--spending", "pocock", "--classical", "--format", "json"]
    )
    assert json.loads(out.output)["looks"][0]["z"] == pytest.approx(2.361, abs=1e-3)
    table = runner.invoke(app, ["boundaries", "--spending", "obf"])
    assert table.exit_code == 0
    assert "4.3326" in table.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--spending", "linear"], "unknown spending function 'linear'"),
        (["--fractions", "0.5,a"], "--fractions"),
        (["--fractions", "0.5,0.2"], "fractions must be strictly increasing"),
        (["--looks", "0"], "--looks"),
        (["--futility", "obf"], "one-sided"),
    ],
)
def test_bad_boundaries_options_fail_with_a_message(args: list[str], message: str) -> None:
    out = runner.invoke(app, ["boundaries", *args])
    assert out.exit_code == 2
    assert message in out.output


def test_simulate_peeking_json_shows_naive_above_the_sequential_methods() -> None:
    out = runner.invoke(
        app, ["simulate", "peeking", "--experiments", "2000", "--looks", "50", "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    rates = {row["method"]: row["false_positive_rate"] for row in data["methods"]}
    assert rates["naive"] > 3 * rates["msprt"]
    assert rates["naive"] > 3 * 0.05 * 0.9
    table = runner.invoke(app, ["simulate", "peeking", "--experiments", "200", "--looks", "5"])
    assert "gst_obf" in table.output
    bad = runner.invoke(app, ["simulate", "peeking", "--experiments", "0"])
    assert bad.exit_code == 2


def test_stats_with_the_sequential_example() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "stats_sequential.json"
    out = runner.invoke(app, ["stats", str(example)])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)["results"]
    assert rows[0]["decision"] in {"continue", "efficacy", "futility"}
    assert {"boundary_z", "z", "seq_ci_low", "seq_ci_high"} <= set(rows[0])
    assert {"p_value_always_valid", "seq_ci_low", "seq_ci_high"} <= set(rows[1])
