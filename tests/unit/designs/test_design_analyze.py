"""``analyze`` on experiments with a design: the effects the verdict reads use the design's
variance (equal to the library functions on the same store to 1e-9), the result says which,
the report shows it, and A/A experiments analysed from the store do not over-reject while
the unit-level analysis of the same data does."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipit.analysis.designs import analyze_cluster, analyze_stratified
from shipit.analysis.pipeline import analyze
from shipit.analysis.switchback import analyze_switchback
from shipit.assign.spec_designs import assign_design, switchback_schedule
from shipit.report.sections import build_report
from shipit.result.schema import from_json, to_json
from shipit.spec.experiment import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

T0 = pd.Timestamp("2024-05-01")
VARIANTS = [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}]


def _spec(key: str, design: dict[str, Any] | None, **extra: Any) -> Experiment:
    metrics = [
        {"name": "revenue", "event": "purchase", "aggregation": "sum", "value": "value"},
        {"name": "bought", "event": "purchase", "aggregation": "any"},
    ]
    body = {"key": key, "variants": VARIANTS, "metrics": metrics, "primary_metric": "revenue",
            "secondary_metrics": ["bought"], **extra}  # fmt: skip
    if design is not None:
        body["design"] = design
    return Experiment.model_validate(body)


def _clustered(
    exp: Experiment, seed: int, n: int = 1200, k: int = 60, lift: float = 0.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units in ``k`` cities with strong city effects (intra-cluster correlation ≈ 0.3)."""
    rng = np.random.default_rng(seed)
    units = np.array([f"{exp.key}-u{i}" for i in range(n)])
    city = np.array([f"city{c:02d}" for c in rng.integers(0, k, n)])
    variant = assign_design(exp, units, {"city": city}).astype(str)
    level = dict(zip(np.unique(city), rng.normal(0, 2.0, len(np.unique(city))), strict=True))
    ts = T0 + pd.to_timedelta(rng.integers(0, 86400, n), "s")
    exposures = pd.DataFrame(
        {"experiment": exp.key, "unit_id": units, "variant": variant, "timestamp": ts,
         "city": city}
    )  # fmt: skip
    buys = rng.random(n) < 0.8
    value = 10 + np.array([level[c] for c in city]) + rng.normal(0, 3, n)
    value = np.maximum(0.0, value * np.where(variant == "treatment", 1 + lift, 1.0))
    events = pd.DataFrame(
        {"unit_id": units[buys], "event": "purchase", "value": value[buys],
         "timestamp": ts[buys] + pd.Timedelta(hours=1)}
    )  # fmt: skip
    return exposures, events


def _engine(parts: list[tuple[pd.DataFrame, pd.DataFrame]]) -> DuckDBEngine:
    engine = DuckDBEngine(":memory:")
    load(engine, "exposures", pd.concat([p[0] for p in parts], ignore_index=True))
    load(engine, "events", pd.concat([p[1] for p in parts], ignore_index=True))
    return engine


def _close(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= 1e-9 * max(1.0, abs(b))


def test_cluster_design_analysis_equals_the_library_function() -> None:
    exp = _spec("cities", {"kind": "cluster", "by": "city"})
    engine = _engine([_clustered(exp, 3, lift=0.05)])
    a = analyze(exp, engine)
    assert a.design is not None
    assert a.design.kind == "cluster"
    assert a.design.unit_of_analysis == "cluster"
    ref = analyze_cluster(engine, exp)
    for metric in ("revenue", "bought"):
        robust = ref.effect(metric, "treatment").robust
        e = a.effect(metric, "treatment")
        assert e is not None
        assert e.adjusted is None
        for field in ("abs_effect", "abs_se", "abs_ci_low", "abs_ci_high", "rel_effect",
                      "rel_se", "rel_ci_low", "rel_ci_high", "p_value"):  # fmt: skip
            assert _close(getattr(e.raw, field), float(getattr(robust, field)[0])), field
    clusters = ref.effect("revenue")
    assert a.design.clusters == {
        "control": clusters.clusters_control,
        "treatment": clusters.clusters_variant,
    }
    comparison = next(c for c in a.design.comparisons if c.metric == "revenue")
    naive = ref.effect("revenue").naive
    assert _close(comparison.naive_se, float(naive.abs_se[0]))
    assert comparison.design_effect is not None
    assert comparison.design_effect > 2
    # The result JSON says which variance was used, and round-trips.
    data = json.loads(to_json(a))
    assert data["design"]["kind"] == "cluster"
    assert data["design"]["variance"].startswith("cluster-robust")
    assert from_json(to_json(a)) == a
    section = build_report(a).section("design")
    assert section is not None
    texts = {i.label: i.text for i in section.items}
    assert texts["randomized"] == "whole clusters by city"
    assert texts["clusters"].startswith(str(sum(a.design.clusters.values())))
    from shipit.report.html import render_html

    page = render_html(a)  # the HTML report shows the same section
    assert 'id="design"' in page
    assert "whole clusters by city" in page


@pytest.mark.slow
def test_cluster_a_a_from_the_store_does_not_over_reject() -> None:
    robust = naive = 0
    seeds = range(100)
    for seed in seeds:
        exp = _spec(f"aa{seed}", {"kind": "cluster", "by": "city"}, secondary_metrics=[])
        engine = _engine([_clustered(exp, seed)])
        p = analyze(exp, engine, daily=False).effect("revenue", "treatment")
        plain = exp.model_copy(update={"design": None})
        q = analyze(plain, engine, daily=False).effect("revenue", "treatment")
        assert p is not None
        assert q is not None
        assert p.raw.p_value is not None
        robust += int(p.raw.p_value < 0.05)
        naive += int(q.raw.p_value is not None and q.raw.p_value < 0.05)
    assert robust <= 9  # 5 expected at 5% over 100; P(> 9) < 0.03 for a calibrated test
    assert naive >= 15  # the unit-level test rejects at 3 times the nominal rate or more


START = datetime(2024, 5, 1)
REGIONS = [f"r{i}" for i in range(4)]


def _switchback_spec(key: str) -> Experiment:
    return Experiment.model_validate(
        {"key": key, "variants": VARIANTS,
         "design": {"kind": "switchback", "interval_hours": 2, "burn_in_minutes": 20,
                    "by": "region", "start": START.isoformat()},
         "metrics": [{"name": "orders", "event": "order", "aggregation": "count"}],
         "primary_metric": "orders"}
    )  # fmt: skip


def _orders(exp: Experiment, seed: int, lift: float, days: int = 1) -> pd.DataFrame:
    """Orders per region and minute at a rate the variant of the minute's block scales."""
    rng = np.random.default_rng(seed)
    end = START + timedelta(days=days)
    schedule = switchback_schedule(exp, REGIONS, START, end)
    minutes = days * 24 * 60
    rows = []
    for r, region in enumerate(REGIONS):
        arm = schedule.index[r, np.arange(minutes) // 120]
        counts = rng.poisson(0.5 * rng.uniform(0.8, 1.2) * (1 + lift * (arm == 1)))
        for minute in np.repeat(np.arange(minutes), counts):
            rows.append((region, START + timedelta(minutes=int(minute), seconds=20)))
    df = pd.DataFrame(rows, columns=["region", "timestamp"])
    return df.assign(unit_id=[f"{exp.key}-o{i}" for i in range(len(df))], event="order", value=1.0)


def _switchback_exposures(exp: Experiment, events: pd.DataFrame) -> pd.DataFrame:
    variant = assign_design(
        exp, events["unit_id"], {"region": events["region"]}, list(events["timestamp"])
    )
    return pd.DataFrame(
        {"experiment": exp.key, "unit_id": events["unit_id"], "variant": variant.astype(str),
         "timestamp": events["timestamp"] - pd.Timedelta(seconds=10), "region": events["region"]}
    )  # fmt: skip


def test_switchback_design_analysis_equals_the_library_function() -> None:
    exp = _switchback_spec("dispatch")
    events = _orders(exp, 1, lift=0.2, days=2)
    engine = _engine([(_switchback_exposures(exp, events), events)])
    a = analyze(exp, engine)
    assert a.design is not None
    assert a.design.kind == "switchback"
    assert a.design.unit_of_analysis == "block"
    assert a.design.burn_in_minutes == 20
    end = events["timestamp"].max().to_pydatetime() + timedelta(microseconds=1)
    (ref,) = analyze_switchback(engine, exp, end)
    e = a.effect("orders", "treatment")
    assert e is not None
    for field in ("abs_effect", "abs_se", "abs_ci_low", "abs_ci_high", "rel_ci_low", "p_value"):
        assert _close(getattr(e.raw, field), float(getattr(ref.result, field)[0])), field
    assert a.design.blocks == {"control": ref.blocks_control, "treatment": ref.blocks_variant}
    assert sum(a.design.blocks.values()) == len(REGIONS) * 23  # the last interval is partial
    section = build_report(a).section("design")
    assert section is not None
    assert any(i.label == "schedule" and "burn-in 20 min" in i.text for i in section.items)


@pytest.mark.slow
def test_switchback_a_a_from_the_store_does_not_over_reject() -> None:
    seeds = range(30)
    specs = [_switchback_spec(f"sb{s}") for s in seeds]
    rejected = 0
    for seed, exp in zip(seeds, specs, strict=True):
        events = _orders(exp, 100 + seed, lift=0.0)
        engine = _engine([(_switchback_exposures(exp, events), events)])
        e = analyze(exp, engine, daily=False).effect("orders", "treatment")
        assert e is not None
        assert e.raw.p_value is not None
        rejected += int(e.raw.p_value < 0.05)
    assert rejected <= 4  # 1.5 expected at 5% over 30; P(> 4) < 0.02 for a calibrated test


def _stratified_data(exp: Experiment, seed: int, n: int = 900, lift: float = 0.0) -> Any:
    rng = np.random.default_rng(seed)
    units = np.array([f"{exp.key}-u{i}" for i in range(n)])
    tier = rng.choice(["bronze", "silver", "gold"], n, p=[0.6, 0.3, 0.1])
    variant = assign_design(exp, units, {"tier": tier}).astype(str)
    base = pd.Series(tier).map({"bronze": 5.0, "silver": 20.0, "gold": 80.0}).to_numpy()
    y = rng.gamma(2.0, base / 2) * np.where(variant == "treatment", 1 + lift, 1.0)
    ts = T0 + pd.to_timedelta(rng.integers(0, 86400, n), "s")
    exposures = pd.DataFrame(
        {"experiment": exp.key, "unit_id": units, "variant": variant, "timestamp": ts,
         "tier": tier}
    )  # fmt: skip
    events = pd.DataFrame(
        {"unit_id": units, "event": "purchase", "value": y, "timestamp": ts + pd.Timedelta(hours=1)}
    )
    return exposures, events


def test_stratified_design_analysis_equals_the_library_function() -> None:
    exp = _spec("tiers", {"kind": "stratified", "by": ["tier"]})
    engine = _engine([_stratified_data(exp, 4, lift=0.1)])
    a = analyze(exp, engine)
    assert a.design is not None
    assert a.design.strata == 3
    ref = next(r for r in analyze_stratified(engine, exp) if r.metric == "revenue")
    e = a.effect("revenue", "treatment")
    assert e is not None
    assert _close(e.raw.abs_effect, ref.stratified.estimate)
    assert _close(e.raw.abs_se, ref.stratified.se)
    assert _close(e.raw.abs_ci_low, ref.stratified.ci_low)
    assert _close(e.raw.p_value, ref.stratified.p_value)
    # The relative effect is over the stratified control mean.
    assert e.mean_control is not None
    assert e.raw.rel_effect == pytest.approx(ref.stratified.estimate / e.mean_control, rel=1e-9)
    comparison = next(c for c in a.design.comparisons if c.metric == "revenue")
    assert comparison.design_effect is not None
    assert comparison.design_effect < 1


@pytest.mark.slow
def test_stratified_a_a_from_the_store_does_not_over_reject() -> None:
    seeds = range(40)
    specs = [_spec(f"st{s}", {"kind": "stratified", "by": ["tier"]}) for s in seeds]
    engine = _engine([_stratified_data(exp, s) for s, exp in zip(seeds, specs, strict=True)])
    rejected = 0
    for exp in specs:
        e = analyze(exp, engine, daily=False).effect("revenue", "treatment")
        assert e is not None
        assert e.raw.p_value is not None
        rejected += int(e.raw.p_value < 0.05)
    assert rejected <= 5


def test_blocked_design_analysed_stratified_by_its_stored_blocks() -> None:
    from shipit.assign.spec_designs import block_strata

    exp = _spec("pairs", {"kind": "blocked", "order_by": "pre"})
    rng = np.random.default_rng(9)
    n = 800
    units = np.array([f"pairs-u{i}" for i in range(n)])
    pre = rng.gamma(2.0, 10.0, n)
    variant = assign_design(exp, units, {"pre": pre}).astype(str)
    block = block_strata(exp, units, {"pre": pre})
    assert len(np.unique(block)) == n // 4  # pairs pooled two by two: 2 units a variant
    for b in np.unique(block)[:20]:
        assert sorted(variant[block == b]) == ["control", "control", "treatment", "treatment"]
    y = pre * np.where(variant == "treatment", 1.05, 1.0) + rng.normal(0, 2, n)
    ts = T0 + pd.to_timedelta(rng.integers(0, 86400, n), "s")
    exposures = pd.DataFrame(
        {"experiment": exp.key, "unit_id": units, "variant": variant, "timestamp": ts,
         "block": block.astype(str)}
    )  # fmt: skip
    events = pd.DataFrame(
        {"unit_id": units, "event": "purchase", "value": y, "timestamp": ts + pd.Timedelta(hours=1)}
    )
    a = analyze(exp, _engine([(exposures, events)]), daily=False)
    assert a.design is not None
    assert a.design.kind == "blocked"
    assert a.design.strata == n // 4
    e = a.effect("revenue", "treatment")
    assert e is not None
    df = pd.DataFrame({"b": block, "v": variant, "y": y})
    est = var = 0.0
    for _, g in df.groupby("b"):
        t, c = g[g.v == "treatment"].y, g[g.v == "control"].y
        w = len(g) / n
        est += w * (t.mean() - c.mean())
        var += w**2 * (t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c))
    assert _close(e.raw.abs_effect, est)
    assert _close(e.raw.abs_se, float(np.sqrt(var)))
    comparison = next(c for c in a.design.comparisons if c.metric == "revenue")
    assert comparison.design_effect is not None
    assert comparison.design_effect < 0.2  # blocking on the pre-period removes most variance


@pytest.mark.parametrize("method", ["bayesian", "sequential"])
def test_cluster_design_under_bayesian_and_sequential_plans(method: str) -> None:
    from scipy import stats

    exp = _spec("cities-plan", {"kind": "cluster", "by": "city"}, analysis={"method": method})
    engine = _engine([_clustered(exp, 8, lift=0.05)])
    a = analyze(exp, engine, daily=False)
    e = a.effect("revenue", "treatment")
    assert e is not None
    robust = analyze_cluster(engine, exp).effect("revenue").robust
    assert _close(e.raw.rel_se, float(robust.rel_se[0]))
    if method == "bayesian":
        # The flat prior's posterior of the relative effect: Normal(rel, rel_se).
        assert e.prob_better is not None
        expected = stats.norm.cdf(float(robust.rel_effect[0]) / float(robust.rel_se[0]))
        assert e.prob_better == pytest.approx(expected, rel=1e-6)
    else:
        assert e.sequential is not None
        assert e.sequential.lower is not None
        assert e.sequential.lower < e.raw.rel_effect < e.sequential.upper  # type: ignore[operator]
