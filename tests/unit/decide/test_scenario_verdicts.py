"""The verdict on each built-in scenario, from stats computed directly on its generated data.

Per-unit aggregates come from pandas; Moments, comparisons and a simple CUPED (pooled OLS
on the pre-period covariates) stand in for the pipeline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipit.decide import DecisionPolicy, GuardrailPolicy, check_guardrail, decide
from shipit.decide.build import effects_from_comparison
from shipit.decide.model import Effect
from shipit.decide.power import power_info
from shipit.sim import SimData, generate
from shipit.spec.metric import MetricDef
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments


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
            xc = x - x.mean(axis=0)
            theta = np.linalg.lstsq(np.c_[np.ones(len(y)), xc], y, rcond=None)[0][1:]
            ma = Moments.from_arrays(variant, {"y": y - xc @ theta}, labels=info.variants)
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


def _verdict(data: SimData):
    info = data.info
    effects = [e for m in info.metrics for e in _effects(data, m)]
    policies = tuple(
        GuardrailPolicy(metric=g.metric, margin=g.margin, relative=g.relative)
        for g in info.guardrails
    )
    policy = DecisionPolicy(primary=info.primary, mde=info.mde, guardrails=policies)
    guardrails = [check_guardrail(e, p) for p in policies for e in effects if e.metric == p.metric]
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
    return decide(effects, policy, guardrails=guardrails, power=power), effects


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
    data = generate("recommender", 100_000, seed=5)
    verdict, effects = _verdict(data)
    primary = next(e for e in effects if e.metric == "watch_time")
    assert primary.raw.rel_effect is not None
    assert primary.adjusted is not None
    assert primary.raw.rel_effect > 0.11  # the unlucky draw inflates the raw lift
    lo, hi = primary.adjusted.rel_ci_low, primary.adjusted.rel_ci_high
    assert lo is not None
    assert hi is not None
    assert lo < 0.07 < hi
    assert verdict.decision == "iterate"
    assert verdict.variant == "new_recommender"
    assert any("guardrail uncertain" in r and "sessions" in r for r in verdict.reasons)
    assert verdict.extra_units is not None
    assert verdict.extra_units > 0
