"""The verdict on each built-in scenario, from stats computed directly on its generated data.

Per-unit aggregates come from pandas; Moments, comparisons and a simple CUPED (pooled OLS
on the pre-period covariates) stand in for the pipeline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipit.decide import DecisionPolicy, GuardrailPolicy, assemble
from shipit.decide.build import (
    effects_from_comparison,
    estimate_from,
    segment_effects_from_comparison,
)
from shipit.decide.power import power_check, power_info
from shipit.decide.trust import balance_check, novelty_check, srm_check, srm_locate
from shipit.report import from_json, render_html, render_markdown, to_json, to_text
from shipit.result.model import Analysis, DailyEffect, Effect, SegmentEffect, TrustCheck, Verdict
from shipit.sim import SimData, generate
from shipit.spec.metric import MetricDef
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments
from shipit.stats.results import ComparisonResult


def _per_unit(data: SimData, event: str, aggregation: str) -> pd.Series:
    ev = data.events[data.events["event"] == event]
    g = ev.groupby("unit_id")["value"]
    s = {"sum": g.sum, "count": g.size, "any": lambda: g.size().clip(upper=1)}[aggregation]()
    return s.reindex(data.exposures["unit_id"]).fillna(0.0).set_axis(data.exposures.index)


def _controls(m: Moments, control: str, others: tuple[str, ...]) -> Moments:
    """The control group repeated once per variant (labels must stay unique)."""
    return Moments(
        tuple(f"{control}/{v}" for v in others),
        m.names,
        np.repeat(m[control].matrix, len(others), 0),
    )


def _effects(data: SimData, metric: MetricDef, cuped: bool = True) -> list[Effect]:
    info = data.info
    variant = data.exposures["variant"].to_numpy()
    control, others = info.variants[0], info.variants[1:]
    if metric.kind == "ratio":
        assert metric.numerator is not None
        assert metric.denominator is not None
        cols = {
            "num": _per_unit(data, metric.numerator.event, metric.numerator.aggregation),
            "den": _per_unit(data, metric.denominator.event, metric.denominator.aggregation),
        }
        m = Moments.from_arrays(variant, cols, labels=info.variants)
        raw = compare(_controls(m, control, others), m[list(others)], "ratio")
        adjusted = None
    else:
        assert metric.event is not None
        y = _per_unit(data, metric.event, metric.aggregation).to_numpy()
        m = Moments.from_arrays(variant, {"y": y}, labels=info.variants)
        raw = compare(_controls(m, control, others), m[list(others)], metric.kind)
        adjusted = None
        names = [c.column for c in metric.covariates if c.column]
        if cuped and names:
            units = data.units.set_index("unit_id").loc[data.exposures["unit_id"], names]
            x = units.to_numpy(dtype=float)
            ma = Moments.from_arrays(variant, {"y": _cuped(y, x, variant)}, labels=info.variants)
            adjusted = compare(_controls(ma, control, others), ma[list(others)], "mean")
    return effects_from_comparison(
        raw,
        metrics=[metric.name] * len(others),
        variants=list(others),
        control=control,
        kinds=[metric.kind] * len(others),
        higher_is_better=[metric.higher_is_better] * len(others),
        adjusted=adjusted,
    )


def _columns(data: SimData, metric: MetricDef) -> dict[str, pd.Series]:
    if metric.kind == "ratio":
        assert metric.numerator is not None
        assert metric.denominator is not None
        return {
            "num": _per_unit(data, metric.numerator.event, metric.numerator.aggregation),
            "den": _per_unit(data, metric.denominator.event, metric.denominator.aggregation),
        }
    assert metric.event is not None
    return {"y": _per_unit(data, metric.event, metric.aggregation)}


def _cuped(y: np.ndarray, x: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """Regression adjustment with a slope per arm (Lin's interacted form), each arm moved to
    the pooled covariate means: robust to effects that scale with the covariates."""
    out = y.astype(float)
    centre = x.mean(axis=0)
    for label in np.unique(variant):
        arm = variant == label
        xa = x[arm] - x[arm].mean(axis=0)
        theta = np.linalg.lstsq(np.c_[np.ones(arm.sum()), xa], y[arm], rcond=None)[0][1:]
        out[arm] = y[arm] - (x[arm] - centre) @ theta
    return out


def _segments(data: SimData, metric: MetricDef) -> list[SegmentEffect]:
    """Per-segment effects, CUPED-adjusted within each segment when the metric has covariates."""
    info = data.info
    cols = {k: c.to_numpy() for k, c in _columns(data, metric).items()}
    names = [c.column for c in metric.covariates if c.column]
    x = None
    if names and metric.kind != "ratio":
        x = data.units.set_index("unit_id").loc[data.exposures["unit_id"], names].to_numpy(float)
    variant = data.exposures["variant"].to_numpy()
    kind = "mean" if metric.kind == "proportion" else metric.kind
    out: list[SegmentEffect] = []
    for dim in info.segments:
        values = sorted(data.exposures[dim].unique())
        masks = [(data.exposures[dim] == value).to_numpy() for value in values]
        for v in info.variants[1:]:
            raw_parts = [
                Moments.from_arrays(
                    variant[m], {k: c[m] for k, c in cols.items()}, labels=info.variants
                )
                for m in masks
            ]
            segs = segment_effects_from_comparison(
                _by_segment(raw_parts, values, info.variants[0], v, metric.kind),
                dimension=dim,
                segments=values,
                metric=metric.name,
                variant=v,
            )
            if x is not None:
                adj_parts = [
                    Moments.from_arrays(
                        variant[m],
                        {"y": _cuped(cols["y"][m], x[m], variant[m])},
                        labels=info.variants,
                    )
                    for m in masks
                ]
                adj = _by_segment(adj_parts, values, info.variants[0], v, kind)
                segs = [
                    s.model_copy(update={"raw": s.estimate, "estimate": estimate_from(adj, i)})
                    for i, s in enumerate(segs)
                ]
            out += segs
    return out


def _by_segment(
    parts: list[Moments], values: list[str], control: str, v: str, kind: str
) -> ComparisonResult:
    """One comparison row per segment from each segment's Moments."""
    c = Moments.concat([p[control].rename([f"c{s}"]) for p, s in zip(parts, values, strict=True)])
    t = Moments.concat([p[v].rename([f"v{s}"]) for p, s in zip(parts, values, strict=True)])
    return compare(c, t, kind)


def _daily(data: SimData, metric: MetricDef) -> tuple[list[DailyEffect], TrustCheck]:
    """Cumulative effect by day since exposure, and the novelty check on daily effects."""
    assert metric.event is not None
    first = data.exposures.set_index("unit_id")["ts"]
    ev = data.events[data.events["event"] == metric.event]
    day = (ev["ts"].to_numpy() - first.loc[ev["unit_id"]].to_numpy()) / np.timedelta64(1, "D")
    day = day.astype(int)
    unit = pd.Index(data.exposures["unit_id"]).get_indexer(ev["unit_id"])
    table = np.zeros((len(data.exposures), day.max() + 1))
    np.add.at(table, (unit, day), ev["value"].to_numpy())
    variant = data.exposures["variant"].to_numpy()
    control, v = data.info.variants[0], data.info.variants[1]
    days = np.arange(table.shape[1])
    per_day = compare(*_day_moments(table, variant, control, v), "mean")
    cumulative = compare(*_day_moments(np.cumsum(table, axis=1), variant, control, v), "mean")
    daily = [
        DailyEffect(
            day=int(d), metric=metric.name, variant=v, estimate=estimate_from(cumulative, d)
        )
        for d in days
    ]
    return daily, novelty_check(days, per_day.rel_effect, per_day.rel_se)


def _day_moments(
    table: np.ndarray, variant: np.ndarray, control: str, v: str
) -> tuple[Moments, Moments]:
    """Moments of each day's column, control and variant, one row per day."""

    def rows(label: str) -> Moments:
        mask = variant == label
        y = table[mask]
        n = np.full(y.shape[1], float(mask.sum()))
        matrix = np.stack(
            [np.stack([n, y.sum(0)], -1), np.stack([y.sum(0), (y * y).sum(0)], -1)], 1
        )
        return Moments(tuple(f"{label}{d}" for d in range(y.shape[1])), ("y",), matrix)

    return rows(control), rows(v)


def _analysis(data: SimData) -> Analysis:
    info = data.info
    effects = [e for m in info.metrics for e in _effects(data, m)]
    policies = tuple(
        GuardrailPolicy(metric=g.metric, margin=g.margin, relative=g.relative)
        for g in info.guardrails
    )
    policy = DecisionPolicy(primary=info.primary, mde=info.mde, guardrails=policies)
    first = next(e for e in effects if e.metric == info.primary)
    best = first.best
    assert best.abs_se is not None
    assert first.mean_control is not None
    # Per-unit sd of the primary, backed out of its standard error (equal arms).
    n = first.n_control
    sd = best.abs_se / np.sqrt(2.0 / n)
    power = [
        power_info(
            info.primary,
            sd=sd,
            n=n,
            mde=info.mde,
            baseline=first.mean_control,
            units_per_day=n / info.days,
        )
    ]
    counts = data.exposures["variant"].value_counts().to_dict()
    weights = dict(zip(info.variants, info.weights, strict=True))
    trust = [srm_check(counts, weights), power_check(power[0])]
    for dim in info.segments:
        table = pd.crosstab(data.exposures[dim], data.exposures["variant"])[list(info.variants)]
        trust.append(
            srm_locate(
                f"srm_by_{dim}", [str(i) for i in table.index], table.to_numpy(), info.weights
            )
        )
    daily: list[DailyEffect] = []
    if info.covariates:
        x = data.units.set_index("unit_id").loc[data.exposures["unit_id"], list(info.covariates)]
        m = Moments.from_arrays(
            data.exposures["variant"].to_numpy(),
            {c: x[c].to_numpy(dtype=float) for c in info.covariates},
            labels=info.variants,
        )
        trust.append(
            balance_check(m[info.variants[0]], m[info.variants[1]], info.covariates, adjusted=True)
        )
    primary = next(m for m in info.metrics if m.name == info.primary)
    if primary.kind != "ratio":
        daily, novelty = _daily(data, primary)
        trust.append(novelty)
    return assemble(
        experiment=info.name,
        control=info.variants[0],
        variants=info.variants,
        policy=policy,
        effects=effects,
        segments=_segments(data, primary),
        daily=daily,
        trust=trust,
        power=power,
        units={k: int(v) for k, v in counts.items()},
        weights=weights,
        true_effects=info.true_effects,
    )


def _verdict(data: SimData) -> tuple[Verdict, tuple[Effect, ...]]:
    a = _analysis(data)
    return a.verdict, a.effects


@pytest.mark.slow
def test_ecommerce_rolls_back_citing_page_load() -> None:
    verdict, effects = _verdict(generate("ecommerce", 60_000, seed=3))
    assert verdict.decision == "roll_back"
    assert any("page_load_ms" in r and "+10 margin" in r for r in verdict.reasons), verdict.reasons
    load = next(e for e in effects if e.metric == "page_load_ms").raw
    assert load.abs_ci_low is not None
    assert load.abs_ci_high is not None
    assert load.abs_ci_low < 20.0 < load.abs_ci_high  # the true +20 ms


@pytest.mark.slow
def test_three_models_ships_hybrid_with_collaborative_runner_up() -> None:
    verdict, _ = _verdict(generate("three-models", 100_000, seed=4))
    assert verdict.decision == "ship"
    assert verdict.variant == "hybrid"
    assert verdict.runner_up == "collaborative"
    assert [s.percent for s in verdict.rollout] == [1, 5, 25, 50, 100]
    assert "hybrid" in verdict.pareto


@pytest.mark.slow
def test_recommender_names_the_guardrails_uncertainty() -> None:
    # Sessions' true −2% sits on the guardrail's −2% margin: the light is yellow in
    # most draws, so the verdict extends and says why (the demo's default draw is one).
    data = generate("recommender", 100_000, seed=0)
    verdict, effects = _verdict(data)
    primary = next(e for e in effects if e.metric == "watch_time")
    assert primary.raw.rel_effect is not None
    assert primary.adjusted is not None
    assert primary.raw.rel_effect > 0.09  # the default draw's chance imbalance inflates it
    lo, hi = primary.adjusted.rel_ci_low, primary.adjusted.rel_ci_high
    assert lo is not None
    assert hi is not None
    assert lo < 0.07 < hi
    assert verdict.decision == "iterate"
    assert verdict.variant == "new_recommender"
    assert any("guardrail uncertain" in r and "sessions" in r for r in verdict.reasons)
    # The sessions guardrail's true effect sits on its margin: no extension settles it.
    assert verdict.extra_units is None
    assert any(r.startswith("extending cannot settle the guardrail") for r in verdict.reasons)


@pytest.mark.slow
def test_recommender_analysis_whole() -> None:
    """Trust checks see the default draw's chance imbalance and the novelty; light users gain
    more; reports render."""
    a = _analysis(generate("recommender", 100_000, seed=0))
    checks = {t.name: t for t in a.trust}
    assert checks["srm"].status == "pass"
    assert checks["srm_by_activity"].status == "pass"
    assert checks["power"].status == "pass"
    assert checks["balance"].status == "warn"
    assert "pre_watch_time" in checks["balance"].message
    assert checks["novelty"].status == "warn"
    seg = {s.segment: s.estimate.rel_effect for s in a.segments if s.metric == "watch_time"}
    assert seg["light"] is not None
    assert seg["light"] > seg["medium"]
    (het,) = a.heterogeneity
    assert het.dimension == "activity"
    assert from_json(to_json(a)) == a
    assert "chart-cumulative" in render_html(a)
    assert "watch_time" in render_markdown(a)
    assert "new_recommender" in to_text(a)


@pytest.mark.slow
def test_three_models_reports_name_the_runner_up() -> None:
    a = _analysis(generate("three-models", 60_000, seed=22))
    assert "runner-up collaborative" in to_text(a)
    assert "collaborative" in render_html(a)


@pytest.mark.slow
def test_lost_variant_exposures_halt_the_verdict() -> None:
    """10% of the variant's mobile exposures lost in logging: SRM fails, found in mobile."""
    data = generate("ecommerce", 60_000, seed=23)
    exp = data.exposures
    lost = (exp["variant"] == "ml_recs") & (exp["device"] == "mobile")
    drop = lost & (np.random.default_rng(1).random(len(exp)) < 0.10)
    broken = SimData(
        info=data.info,
        exposures=exp[~drop].reset_index(drop=True),
        events=data.events[~data.events["unit_id"].isin(exp.loc[drop, "unit_id"])],
        units=data.units,
    )
    a = _analysis(broken)
    assert a.verdict.decision == "halt"
    assert "sample ratio mismatch" in a.verdict.reasons[0]
    by_device = next(t for t in a.trust if t.name == "srm_by_device")
    assert by_device.status == "warn"
    assert "mobile" in by_device.message
