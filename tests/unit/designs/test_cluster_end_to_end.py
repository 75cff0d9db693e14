"""A cluster-design spec (the one of docs/designs.md) assigned, stored and analysed: the
cluster-robust effect equals the ratio-of-cluster-totals formula on the raw rows."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipit.analysis.designs import analyze_cluster
from shipit.assign.spec_designs import assign_design
from shipit.errors import DataError, InputError
from shipit.spec.design import ClusterDesign
from shipit.spec.experiment import Experiment
from shipit.spec.io import loads_experiments
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

DOC = Path(__file__).resolve().parents[3] / "docs" / "designs.md"
T0 = pd.Timestamp("2024-05-01")


def doc_spec() -> Experiment:
    """The cluster spec of docs/designs.md."""
    block = re.findall(r"^```yaml\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)[0]
    (exp,) = loads_experiments(block, str(DOC))
    return exp


def _store(exp: Experiment, seed: int = 2) -> tuple[DuckDBEngine, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 3000
    units = np.array([f"u{i:05d}" for i in range(n)])
    city = np.array([f"city{k:02d}" for k in rng.integers(0, 60, n)])
    variant = assign_design(exp, units, {"city": city})
    level = {c: rng.normal(0, 2.0) for c in np.unique(city)}
    exposures = pd.DataFrame(
        {"experiment": exp.key, "unit_id": units, "variant": variant.astype(str),
         "timestamp": T0 + pd.to_timedelta(rng.integers(0, 86400, n), "s"), "city": city}
    )  # fmt: skip
    buyers = rng.random(n) < 0.7
    value = np.maximum(0.0, 10 + np.array([level[c] for c in city]) + rng.normal(0, 3, n))
    events = pd.DataFrame(
        {"unit_id": units[buyers], "event": "purchase", "value": value[buyers],
         "timestamp": exposures["timestamp"][buyers] + pd.Timedelta(hours=1)}
    )  # fmt: skip
    engine = DuckDBEngine(":memory:")
    load(engine, "exposures", exposures)
    load(engine, "events", events)
    return engine, exposures, events


def test_doc_spec_has_a_cluster_design() -> None:
    exp = doc_spec()
    assert exp.design == ClusterDesign(kind="cluster", by="city")


def test_cluster_analysis_from_the_store_matches_raw_rows() -> None:
    exp = doc_spec()
    engine, exposures, events = _store(exp)
    # Every unit of a city has the city's variant.
    assert exposures.groupby("city")["variant"].nunique().max() == 1
    result = analyze_cluster(engine, exp).effect("revenue", "treatment")
    per_unit = exposures.merge(
        events.groupby("unit_id")["value"].sum().rename("y"), on="unit_id", how="left"
    ).fillna({"y": 0.0})
    totals = per_unit.groupby(["variant", "city"])["y"].agg(["sum", "size"]).reset_index()
    stats = {}
    for arm, g in totals.groupby("variant"):
        r = g["sum"].sum() / g["size"].sum()
        lin = (g["sum"] - r * g["size"]) / g["size"].mean()
        stats[arm] = (r, lin.var(ddof=1) / len(g), len(g))
    (rc, vc, gc), (rt, vt, gt) = stats["control"], stats["treatment"]
    assert result.clusters_control == gc
    assert result.clusters_variant == gt
    assert result.robust.abs_effect[0] == pytest.approx(rt - rc, rel=1e-9)
    assert result.robust.abs_se[0] == pytest.approx(np.sqrt(vc + vt), rel=1e-9)
    naive_se = np.sqrt(sum(g["y"].var(ddof=1) / len(g) for _, g in per_unit.groupby("variant")))
    assert result.naive.abs_se[0] == pytest.approx(naive_se, rel=1e-9)
    record = result.record()
    assert record["design_effect"] > 2  # strong city effects


def test_a_cluster_in_two_variants_is_a_data_error() -> None:
    exp = doc_spec()
    engine, exposures, _ = _store(exp)
    broken = exposures.iloc[:1].assign(
        unit_id="intruder",
        variant=lambda d: np.where(d.variant == "control", "treatment", "control"),
    )
    load(engine, "exposures", broken)
    with pytest.raises(DataError, match="has units in variants"):
        analyze_cluster(engine, exp)


def test_online_cluster_assignment_equals_batch() -> None:
    from shipit.assign.spec_designs import assign_online

    exp = doc_spec()
    cities = [f"city{k}" for k in range(50)]
    batch = assign_design(exp, [f"u{k}" for k in range(50)], {"city": cities})
    online = [assign_online(exp, f"other{k}", {"city": c}) for k, c in enumerate(cities)]
    assert list(batch) == online
    assert set(online) == {"control", "treatment"}
    with pytest.raises(InputError, match="'city'"):
        assign_online(exp, "u1", {})
