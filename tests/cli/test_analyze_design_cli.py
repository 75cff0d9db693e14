"""``shipit analyze`` on the cluster example of examples/designs/: the JSON says which
variance the effects use, its effects equal the library's cluster-robust analysis, and the
table output shows the design section."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from shipit.analysis.designs import analyze_cluster
from shipit.assign.spec_designs import assign_design
from shipit.cli.main import app
from shipit.spec.io import load_experiments
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

SPEC = Path(__file__).resolve().parents[2] / "examples" / "designs" / "cluster_cities.yaml"
runner = CliRunner()


def _store(path: Path) -> None:
    (exp,) = load_experiments(SPEC)
    rng = np.random.default_rng(4)
    n = 1200
    units = np.array([f"r{i}" for i in range(n)])
    city = np.array([f"city{k}" for k in rng.integers(0, 30, n)])
    ts = pd.Timestamp("2024-05-01") + pd.to_timedelta(rng.integers(0, 86400, n), "s")
    exposures = pd.DataFrame(
        {"experiment": exp.key, "unit_id": units, "timestamp": ts, "city": city,
         "variant": assign_design(exp, units, {"city": city}).astype(str)}
    )  # fmt: skip
    level = {c: rng.normal(0, 3) for c in sorted(set(city))}
    value = [max(0.0, 20 + level[c] + rng.normal(0, 4)) for c in city]
    events = pd.DataFrame(
        {"unit_id": units, "event": "ride", "value": value, "timestamp": ts + pd.Timedelta("1h")}
    )
    engine = DuckDBEngine(path)
    load(engine, "exposures", exposures)
    load(engine, "events", events)
    engine.close()


def test_analyze_cli_uses_the_cluster_variance(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    _store(store)
    got = runner.invoke(app, ["analyze", str(SPEC), "--store", str(store), "--format", "json"])
    assert got.exit_code == 0, got.output
    data = json.loads(got.output)
    assert data["design"]["kind"] == "cluster"
    assert data["design"]["variance"].startswith("cluster-robust")
    (exp,) = load_experiments(SPEC)
    engine = DuckDBEngine(store)
    ref = analyze_cluster(engine, exp).effect("revenue", "capped").robust
    engine.close()
    effect = next(e for e in data["effects"] if e["metric"] == "revenue")
    assert abs(effect["raw"]["abs_se"] - float(ref.abs_se[0])) <= 1e-9
    assert abs(effect["raw"]["rel_ci_low"] - float(ref.rel_ci_low[0])) <= 1e-9
    table = runner.invoke(app, ["analyze", str(SPEC), "--store", str(store)])
    assert table.exit_code == 0, table.output
    assert "Design" in table.output
    assert "whole clusters by city" in table.output
