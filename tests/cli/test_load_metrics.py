"""``shipit load`` and ``shipit metrics``: exact JSON keys, exit codes, messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shipit.cli.main import app
from shipit.errors import SpecError

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(3)
    n = 60
    units = [f"u{i}" for i in range(n)]
    exposures = pd.DataFrame(
        {
            "experiment": "exp",
            "phase": 1,
            "unit_id": units,
            "variant": ["control", "treatment"] * (n // 2),
            "timestamp": pd.Timestamp("2024-05-01")
            + pd.to_timedelta(rng.integers(0, 86400, n), "s"),
            "country": rng.choice(["de", "fr"], n),
        }
    )
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(200)],
            "unit_id": rng.choice(units, 200),
            "event": "purchase",
            "timestamp": pd.Timestamp("2024-05-01")
            + pd.to_timedelta(rng.integers(0, 3 * 86400, 200), "s"),
            "value": rng.gamma(2.0, 5.0, 200).round(2),
        }
    )
    paths = {"exposures": tmp_path / "exp.csv", "events": tmp_path / "ev.parquet"}
    exposures.to_csv(paths["exposures"], index=False)
    events.to_parquet(paths["events"])
    metrics = tmp_path / "metrics.yaml"
    metrics.write_text(
        "- name: revenue\n  event: purchase\n"
        "  covariates: [{name: pre, event: purchase}]\n"
        "- name: orders_per_buyer\n"
        "  numerator: {event: purchase, aggregation: count}\n"
        "  denominator: {event: purchase, aggregation: any}\n"
    )
    paths["metrics"] = metrics
    paths["frame"] = tmp_path / "frame.pkl"
    events.to_pickle(paths["frame"])
    exposures.to_pickle(tmp_path / "exposures.pkl")
    return paths


def test_load_then_metrics_json(files: dict[str, Path]) -> None:
    r = runner.invoke(app, ["load", "exposures", str(files["exposures"])])
    assert r.exit_code == 0, r.output
    assert "loaded 60 new rows into exposures" in r.output
    r = runner.invoke(app, ["load", "events", str(files["events"])])
    assert "loaded 200 new rows" in r.output
    r = runner.invoke(app, ["load", "events", str(files["events"])])
    assert "loaded 0 new rows" in r.output
    r = runner.invoke(
        app, ["metrics", "exp", "--metrics", str(files["metrics"]), "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    rows = doc["metrics"]
    assert [(x["metric"], x["variant"]) for x in rows] == [
        ("revenue", "control"),
        ("revenue", "treatment"),
        ("orders_per_buyer", "control"),
        ("orders_per_buyer", "treatment"),
    ]
    assert set(rows[0]) >= {"metric", "variant", "n", "mean", "sum", "sum_sq"}
    assert "segment" not in rows[0]
    assert "day" not in rows[0]
    # Independent check of the revenue sums against pandas.
    ex = pd.read_pickle(files["exposures"].parent / "exposures.pkl")
    ev = pd.read_pickle(files["frame"]).merge(ex, on="unit_id", suffixes=("", "_x"))
    ev = ev[ev["timestamp"] >= ev["timestamp_x"]]
    for row in rows[:2]:
        want = ev[ev["variant"] == row["variant"]]["value"].sum()
        assert row["sum"] == pytest.approx(want, rel=1e-12)
        assert row["n"] == 30
        assert row["mean"] == pytest.approx(want / 30, rel=1e-12)


def test_metrics_by_segment_and_day_and_sql(files: dict[str, Path]) -> None:
    runner.invoke(app, ["load", "exposures", str(files["exposures"])])
    runner.invoke(app, ["load", "events", str(files["events"])])
    base = ["metrics", "exp", "--metrics", str(files["metrics"]), "--format", "json"]
    seg = json.loads(runner.invoke(app, [*base, "--by", "country"]).output)["metrics"]
    assert {r["segment"] for r in seg} == {"de", "fr"}
    day = json.loads(runner.invoke(app, [*base, "--by", "day"]).output)["metrics"]
    assert {r["day"] for r in day} >= {"2024-05-01", "2024-05-02"}
    sql = runner.invoke(app, ["metrics", "exp", "--metrics", str(files["metrics"]), "--show-sql"])
    assert sql.exit_code == 0, sql.output
    assert "WITH phase_exposures AS" in sql.output
    assert "m0__y" in sql.output
    assert "'treatment'" in sql.output


def test_bad_file_is_rejected_with_row(files: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("unit_id,event,timestamp\nu1,buy,2024-01-01\nu2,buy,not-a-time\n")
    r = runner.invoke(app, ["load", "events", str(bad)])
    assert r.exit_code != 0
    assert "row 2" in str(r.exception)


def test_unknown_experiment_is_not_found(files: dict[str, Path]) -> None:
    runner.invoke(app, ["load", "exposures", str(files["exposures"])])
    r = runner.invoke(app, ["metrics", "nope", "--metrics", str(files["metrics"])])
    assert r.exit_code != 0
    assert "no exposures for experiment 'nope'" in str(r.exception)


def test_a_bad_metrics_file_names_its_line_as_specs_do(
    files: dict[str, Path], tmp_path: Path
) -> None:
    """`shipit metrics` reads metrics files with the spec loader: errors carry line numbers."""
    runner.invoke(app, ["load", "exposures", str(files["exposures"])])
    bad = tmp_path / "bad.yaml"
    bad.write_text("metrics:\n  - name: ok\n    event: buy\n  - name: broken\n    windw: 3\n")
    r = runner.invoke(app, ["metrics", "exp", "--metrics", str(bad)])
    assert isinstance(r.exception, SpecError)
    assert "bad.yaml:5: metrics[1].windw: unknown field" in str(r.exception)
    empty = tmp_path / "empty.yaml"
    empty.write_text("metrics: []\n")
    r = runner.invoke(app, ["metrics", "exp", "--metrics", str(empty)])
    assert isinstance(r.exception, SpecError)
    assert "defines no metrics" in str(r.exception)
