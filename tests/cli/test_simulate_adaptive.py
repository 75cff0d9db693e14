"""``shipit simulate bandit`` and ``shipit simulate interleaving`` through the CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from shipit.cli.main import app

runner = CliRunner()


def test_simulate_bandit_json_compares_with_the_fixed_split() -> None:
    out = runner.invoke(
        app,
        [
            "simulate",
            "bandit",
            "--arms",
            "0.10,0.15",
            "--policy",
            "thompson",
            "--units",
            "2000",
            "--runs",
            "50",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert [p["policy"] for p in doc["policies"]] == ["thompson", "fixed"]
    thompson, fixed = doc["policies"]
    assert fixed["cumulative_regret"] > thompson["cumulative_regret"]
    assert abs(fixed["allocation"][0] - 0.5) < 0.01
    assert thompson["allocation"][1] > 0.6
    assert abs(sum(thompson["allocation"]) - 1) < 1e-9
    assert thompson["regret_curve"][-1]["units"] == 2000


def test_simulate_bandit_text_table() -> None:
    out = runner.invoke(
        app, ["simulate", "bandit", "--policy", "ucb", "--units", "500", "--runs", "20"]
    )
    assert out.exit_code == 0, out.output
    assert "ucb" in out.output
    assert "fixed" in out.output
    assert "regret" in out.output


def test_simulate_interleaving_prints_both_powers() -> None:
    out = runner.invoke(app, ["simulate", "interleaving", "--runs", "100", "--format", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["sessions"] == 1000
    assert doc["ctr_a"] == 0.2
    assert doc["ctr_b"] == 0.25
    assert 0 <= doc["power_ab"] <= 1
    assert 0 <= doc["power_interleaving"] <= 1
    text = runner.invoke(app, ["simulate", "interleaving", "--runs", "50"])
    assert "A/B" in text.output
    assert "interleaving" in text.output


def test_bad_arms_are_a_clear_error() -> None:
    out = runner.invoke(app, ["simulate", "bandit", "--arms", "0.1,x"])
    assert out.exit_code != 0
    assert "--arms" in str(out.exception)
