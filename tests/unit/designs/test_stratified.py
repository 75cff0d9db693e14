"""Stratified and blocked designs from the spec: exact balance within strata, and the
stratified estimate from the store equals the textbook formula on the raw rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipit.analysis.designs import analyze_stratified
from shipit.assign.spec_designs import assign_design, default_block_size
from shipit.errors import InputError
from shipit.spec.experiment import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

T0 = pd.Timestamp("2024-05-01")
VARIANTS = [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}]


def _experiment(design: dict[str, object]) -> Experiment:
    return Experiment.model_validate(
        {"key": "tiers", "variants": VARIANTS, "design": design,
         "metrics": [{"name": "spend", "event": "purchase", "aggregation": "sum"}],
         "primary_metric": "spend"}
    )  # fmt: skip


def test_stratified_assignment_balances_each_stratum() -> None:
    exp = _experiment({"kind": "stratified", "by": ["tier", "country"]})
    rng = np.random.default_rng(1)
    n = 1001
    tier, country = rng.choice(["a", "b", "c"], n), rng.choice(["fr", "de"], n)
    got = assign_design(exp, [f"u{i}" for i in range(n)], {"tier": tier, "country": country})
    df = pd.DataFrame({"s": np.char.add(tier, country), "v": got})
    counts = df.groupby("s")["v"].value_counts().unstack(fill_value=0)
    assert (abs(counts["control"] - counts["treatment"]) <= 1).all()
    with pytest.raises(InputError, match="'country'"):
        assign_design(exp, ["u1"], {"tier": ["a"]})


def test_blocked_assignment_balances_each_block() -> None:
    exp = _experiment({"kind": "blocked", "order_by": "pre_spend"})
    assert default_block_size([0.5, 0.5]) == 2
    assert default_block_size([0.25, 0.75]) == 4
    pre = np.random.default_rng(2).gamma(2.0, 10.0, 400)
    got = assign_design(exp, [f"u{i}" for i in range(400)], {"pre_spend": pre})
    pairs = got[np.argsort(pre, kind="stable")].reshape(-1, 2)
    assert (pairs[:, 0] != pairs[:, 1]).all()


def test_stratified_analysis_from_the_store_matches_raw_rows() -> None:
    exp = _experiment({"kind": "stratified", "by": ["tier"]})
    rng = np.random.default_rng(4)
    n = 2400
    units = np.array([f"u{i:05d}" for i in range(n)])
    tier = rng.choice(["bronze", "silver", "gold"], n, p=[0.6, 0.3, 0.1])
    variant = assign_design(exp, units, {"tier": tier}).astype(str)
    base = pd.Series(tier).map({"bronze": 5.0, "silver": 20.0, "gold": 80.0}).to_numpy()
    y = rng.gamma(2.0, base / 2) * np.where(variant == "treatment", 1.1, 1.0)
    ts = T0 + pd.to_timedelta(rng.integers(0, 86400, n), "s")
    exposures = pd.DataFrame(
        {"experiment": "tiers", "unit_id": units, "variant": variant, "timestamp": ts,
         "tier": tier}
    )  # fmt: skip
    events = pd.DataFrame(
        {"unit_id": units, "event": "purchase", "value": y, "timestamp": ts + pd.Timedelta(hours=1)}
    )
    engine = DuckDBEngine(":memory:")
    load(engine, "exposures", exposures)
    load(engine, "events", events)
    (result,) = analyze_stratified(engine, exp)
    df = pd.DataFrame({"tier": tier, "v": variant, "y": y})
    est, var = 0.0, 0.0
    for _, g in df.groupby("tier"):
        w = len(g) / n
        t, c = g[g.v == "treatment"].y, g[g.v == "control"].y
        est += w * (t.mean() - c.mean())
        var += w**2 * (t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c))
    s = result.stratified
    assert s.estimate == pytest.approx(est, rel=1e-9)
    assert s.se == pytest.approx(np.sqrt(var), rel=1e-9)
    assert s.strata == 3
    assert s.se < result.unstratified.abs_se[0]  # tiers explain much of the variance
