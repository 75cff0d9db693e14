"""``shipit stats`` and ``shipit power`` through the Typer app: output, messages, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shipit.analysis.given import run_stats
from shipit.cli.main import app
from shipit.stats.power import plan_sample_size

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "stats_input.json"
runner = CliRunner()


def _write(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_json_output_is_the_library_result() -> None:
    result = runner.invoke(app, ["stats", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == run_stats(json.loads(EXAMPLE.read_text()))


def test_json_is_the_default_format() -> None:
    result = runner.invoke(app, ["stats", str(EXAMPLE)])
    assert result.exit_code == 0
    assert set(json.loads(result.stdout)) >= {"srm", "results"}


def test_table_output_shows_every_comparison_and_srm() -> None:
    result = runner.invoke(app, ["stats", str(EXAMPLE), "--format", "table"])
    assert result.exit_code == 0, result.output
    for text in ("SRM", "conversion", "revenue", "clicks_per_session", "treatment", "+22.53%"):
        assert text in result.stdout


def _example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return data


def _bad(tmp_path: Path, change: Any) -> tuple[int, str]:
    data = _example()
    change(data)
    result = runner.invoke(app, ["stats", _write(tmp_path, data)])
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["metrics"][1]["variants"]["treatment"].pop("sum_sq"),
            "metric 'revenue', variant 'treatment': field 'sum_sq' is missing",
        ),
        (
            lambda d: d["metrics"][0]["variants"]["control"].update(n=-1),
            "metric 'conversion', variant 'control': field 'n' must be a whole number ≥ 0",
        ),
        (
            lambda d: d["metrics"][1]["variants"]["control"].update(sum_sq=10.0),
            "metric 'revenue', variant 'control': field 'sum_sq' is smaller than its sum squared",
        ),
        (
            lambda d: d["metrics"][2].update(kind="quantile"),
            "metric 'clicks_per_session': field 'kind'",
        ),
        (
            lambda d: d["metrics"][0].update(control="nope"),
            "metric 'conversion': field 'control' is 'nope'",
        ),
        (
            lambda d: d["metrics"][2]["variants"].pop("treatment"),
            "metric 'clicks_per_session', variant 'treatment': missing",
        ),
    ],
    ids=[
        "missing-field",
        "negative-n",
        "negative-variance",
        "unknown-kind",
        "unknown-control",
        "missing-variant",
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, change: Any, message: str) -> None:
    code, err = _bad(tmp_path, change)
    assert code == 2
    assert message in err
    assert err.strip().count("\n") == 0
    assert "Traceback" not in err


def test_missing_file_and_invalid_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["stats", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"metrics": [\n  {"name": }\n]}')
    result = runner.invoke(app, ["stats", str(bad)])
    assert result.exit_code == 2
    assert "not valid JSON at line 2" in result.stderr


def test_power_json_matches_the_library_plan() -> None:
    args = [
        "power",
        "--kind",
        "proportion",
        "--baseline",
        "0.10",
        "--mde",
        "0.01",
        "--daily-units",
        "1000",
    ]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    plan = plan_sample_size("proportion", 0.01, baseline=0.10, daily_units=1000)
    assert out["per_variant"] == plan.per_variant == 14751
    assert out["total"] == 2 * plan.per_variant
    assert out["days"] == 30


def test_power_relative_variants_and_table() -> None:
    args = [
        "power",
        "--kind",
        "mean",
        "--sd",
        "3",
        "--baseline",
        "10",
        "--mde",
        "0.02",
        "--relative",
        "--variants",
        "3",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    plan = plan_sample_size("mean", 0.02, sd=3, baseline=10, relative=True, variants=3)
    assert f"{plan.per_variant:,}" in result.stdout
    assert f"{plan.total:,}" in result.stdout


def test_power_bad_input_is_one_line() -> None:
    result = runner.invoke(app, ["power", "--kind", "mean", "--mde", "0.1"])
    assert result.exit_code == 2
    assert "--sd" in result.stderr


def test_table_renders_degenerate_rows(tmp_path: Path) -> None:
    data = _example()
    data["srm"]["counts"]["treatment"] = 11_000
    data["metrics"].append(
        {
            "name": "tiny",
            "kind": "mean",
            "variants": {
                "control": {"n": 0, "sum": 0, "sum_sq": 0},
                "treatment": {"n": 1, "sum": 2.0, "sum_sq": 4.0},
            },
        }
    )
    result = runner.invoke(app, ["stats", _write(tmp_path, data), "--format", "table"])
    assert result.exit_code == 0, result.output
    assert "too_few_units" in result.stdout
    assert "MISMATCH" in result.stdout
