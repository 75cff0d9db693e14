"""``shipit stats --format table``: the CUPED, Bayesian and sequential blocks of the examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shipit.analysis.given import run_stats
from shipit.cli.main import app
from shipit.result.format import p_value

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


def _run(name: str) -> tuple[str, dict[str, Any]]:
    path = EXAMPLES / name
    result = runner.invoke(app, ["stats", str(path), "--format", "table"])
    assert result.exit_code == 0, result.output
    return result.stdout, run_stats(json.loads(path.read_text()))


def _pct(x: float) -> str:
    return f"{100 * x:+.2f}%"


def _rows(out: str, title: str) -> list[str]:
    """The lines of the table under ``title`` (up to the next table's title or the end)."""
    block = out.split(title, 1)[1]
    return [line for line in block.splitlines() if line.startswith("│")]


def test_cuped_block_shows_adjusted_effects_and_variance_reduction() -> None:
    out, summary = _run("stats_cuped.json")
    assert "CUPED" in out
    assert "Bayesian" not in out
    assert "Sequential" not in out
    lines = _rows(out, "CUPED")
    for r in summary["results"]:
        c = r["cuped"]
        first = next(i for i, line in enumerate(lines) if f"│ {r['metric']} " in line)
        cell = lines[first] + lines[first + 1]
        assert _pct(c["rel_effect"]) in cell
        assert f"[{_pct(c['rel_ci_low'])}, {_pct(c['rel_ci_high'])}]" in cell
        assert f"{100 * c['variance_reduction']:.1f}%" in cell
        assert p_value(c["p_value"]) in cell  # the one p-value formatter
        assert _pct(r["rel_effect"]) in cell  # the raw effect side by side
        assert f"{round(c['equivalent_n']):,}" in cell
    # CUPED moved the revenue estimate: the adjusted and raw relative effects differ
    rev = summary["results"][0]
    assert _pct(rev["cuped"]["rel_effect"]) != _pct(rev["rel_effect"])


def test_bayesian_block_shows_probabilities_losses_interval_and_ship_rule() -> None:
    out, summary = _run("stats_bayesian.json")
    assert "Bayesian" in out
    assert "P(best)" in out
    lines = _rows(out, "Bayesian")
    for r in summary["results"]:
        line = next(
            line for line in lines if f"│ {r['metric']} " in line and f" {r['variant']} " in line
        )
        assert f"{r['prob_better']:.4g}" in line
        assert f"[{_pct(r['cred_low'])}, {_pct(r['cred_high'])}]" in line
        assert r["ship_reason"] in line
        assert r["bayes_model"] in line
        assert ("yes" if r["ship"] else "no") in line
        loss = r["expected_loss_variant"]
        shown = f"{loss:.3g}" if r["expected_loss_scale"] == "absolute" else f"{100 * loss:.3g}%"
        assert shown in line
    best = _rows(out, "P(best)")
    for m in summary["metrics"]:
        for label, p in m["prob_best"].items():
            assert any(
                f"│ {m['metric']} " in line and f" {label} " in line and f"{p:.4g}" in line
                for line in best
            )
    # the CUPED-adjusted metric shows its block too
    assert "CUPED" in out


def test_sequential_block_shows_always_valid_p_boundaries_and_intervals() -> None:
    out, summary = _run("stats_sequential.json")
    lines = _rows(out, "Sequential")
    assert len(lines) == len(summary["results"])
    for r, line in zip(summary["results"], lines, strict=True):
        assert f"[{_pct(r['seq_rel_ci_low'])}, {_pct(r['seq_rel_ci_high'])}]" in line
        assert f"{r['seq_ci_low']:.4g}" in line
        assert f"{r['seq_ci_high']:.4g}" in line
        if "boundary_z" in r:
            assert f"{r['z']:.4g} / {r['boundary_z']:.4g}" in line
            assert r["decision"] in line
        else:
            assert p_value(r["p_value_always_valid"]) in line


@pytest.mark.parametrize("name", ["stats_input.json"])
def test_plain_frequentist_table_has_no_method_blocks(name: str) -> None:
    out, _ = _run(name)
    for title in ("CUPED", "Bayesian", "Sequential", "P(best)"):
        assert title not in out


def test_examples_are_valid_inputs_with_their_method() -> None:
    for name, method in (
        ("stats_cuped.json", "frequentist"),
        ("stats_bayesian.json", "bayesian"),
        ("stats_sequential.json", "sequential"),
    ):
        data = json.loads((EXAMPLES / name).read_text())
        assert run_stats(data)["method"] == method


DEGENERATE: dict[str, Any] = {
    "method": "bayesian",
    "metrics": [
        {
            "name": "conv",
            "kind": "proportion",
            "variants": {
                "a": {"n": 0, "sum": 0},
                "b": {"n": 10, "sum": 3},
                "c": {"n": 1, "sum": 1},
            },
        },
        {
            "name": "rev",
            "kind": "mean",
            "variants": {
                "a": {
                    "n": 1,
                    "sum": 2,
                    "sum_sq": 4,
                    "cov_sums": [1],
                    "cov_sq": [[1]],
                    "cov_y": [2],
                },
                "b": {
                    "n": 3,
                    "sum": 3,
                    "sum_sq": 3,
                    "cov_sums": [3],
                    "cov_sq": [[3]],
                    "cov_y": [3],
                },
                "c": {
                    "n": 3,
                    "sum": 3,
                    "sum_sq": 3,
                    "cov_sums": [3],
                    "cov_sq": [[3]],
                    "cov_y": [3],
                },
            },
        },
    ],
}


def test_degenerate_bayesian_and_cuped_rows_render_without_numbers(tmp_path: Path) -> None:
    path = tmp_path / "degenerate.json"
    path.write_text(json.dumps(DEGENERATE))
    result = runner.invoke(app, ["stats", str(path), "--format", "table"])
    assert result.exit_code == 0, result.output
    assert "no_estimate" in result.stdout
    assert "no_covariates / too_few_units" in result.stdout
    best = _rows(result.stdout, "P(best)")
    assert all("—" in line for line in best if "│ rev " in line)
