"""A complete analysis value, every section filled, for the renderers to draw."""

from __future__ import annotations

import pytest

from shipit.decide import DecisionPolicy, GuardrailPolicy, check_guardrail, decide
from shipit.result.bandit import BanditArm, BanditPeriodSummary, BanditResult
from shipit.result.model import (
    Analysis,
    DailyEffect,
    Effect,
    Estimate,
    Heterogeneity,
    PowerInfo,
    SegmentEffect,
    TrustCheck,
)


def _est(rel: float, se: float, p: float) -> Estimate:
    return Estimate(
        abs_effect=rel * 100,
        abs_se=se * 100,
        abs_ci_low=(rel - 1.96 * se) * 100,
        abs_ci_high=(rel + 1.96 * se) * 100,
        rel_effect=rel,
        rel_se=se,
        rel_ci_low=rel - 1.96 * se,
        rel_ci_high=rel + 1.96 * se,
        p_value=p,
    )


@pytest.fixture
def analysis() -> Analysis:
    effects = [
        Effect(
            metric="watch_time",
            variant="new_recommender",
            control="control",
            n_control=50_000,
            n_variant=50_000,
            mean_control=268.0,
            mean_variant=304.0,
            raw=_est(0.134, 0.012, 1e-20),
            adjusted=_est(0.071, 0.003, 1e-90),
            prob_better=0.999,
            expected_loss=0.0,
        ),
        Effect(
            metric="sessions",
            variant="new_recommender",
            control="control",
            n_control=50_000,
            n_variant=50_000,
            mean_control=8.9,
            mean_variant=9.2,
            raw=_est(0.036, 0.009, 1e-4),
            adjusted=_est(-0.020, 0.0022, 1e-10),
        ),
    ]
    policy = DecisionPolicy(
        primary="watch_time",
        mde=0.02,
        guardrails=(GuardrailPolicy(metric="sessions", margin=0.02),),
    )
    guardrails = [check_guardrail(effects[1], policy.guardrails[0])]
    segments = [
        SegmentEffect(
            dimension="activity",
            segment=s,
            metric="watch_time",
            variant="new_recommender",
            n_control=15_000,
            n_variant=15_000,
            estimate=_est(r, 0.01, 1e-6),
        )
        for s, r in (("light", 0.10), ("medium", 0.068), ("heavy", 0.069))
    ]
    het = [
        Heterogeneity(
            dimension="activity",
            metric="watch_time",
            variant="new_recommender",
            q=6.1,
            df=2,
            p_value=0.047,
            i_squared=0.67,
            strongest="light",
            weakest="medium",
        )
    ]
    daily = [
        DailyEffect(
            day=d,
            date=f"2026-01-{5 + d:02d}",
            metric="watch_time",
            variant="new_recommender",
            estimate=_est(0.07 + 0.08 / (d + 1), 0.03 / (d + 1) ** 0.5, 0.01),
            bound_low=-0.2 / (d + 1) ** 0.5,
            bound_high=0.2 / (d + 1) ** 0.5,
        )
        for d in range(14)
    ]
    trust = [
        TrustCheck(
            name="srm", status="pass", message="split as planned", statistic=0.4, p_value=0.52
        ),
        TrustCheck(
            name="balance",
            status="warn",
            message="chance pre-period imbalance",
            p_value=1e-30,
            details={"pre_watch_time_rel_diff": 0.056, "pre_sessions_rel_diff": 0.05},
        ),
        TrustCheck(name="novelty", status="warn", message="novelty effect: decays"),
    ]
    power = [
        PowerInfo(
            metric="watch_time",
            mde=0.02,
            units_per_variant=50_000,
            achieved_power=0.99,
            reachable_mde=0.008,
            extra_units=0,
            extra_days=0,
        )
    ]
    verdict = decide(
        effects,
        policy,
        guardrails=guardrails,
        trust=trust,
        power=power,
        segments=segments,
        heterogeneity=het,
    )
    return Analysis(
        experiment="recommender-v2",
        control="control",
        variants=("control", "new_recommender"),
        primary="watch_time",
        metrics=("watch_time", "sessions"),
        guardrail_metrics=("sessions",),
        units={"control": 50_000, "new_recommender": 50_000},
        weights={"control": 0.5, "new_recommender": 0.5},
        effects=tuple(effects),
        segments=tuple(segments),
        heterogeneity=tuple(het),
        daily=tuple(daily),
        trust=tuple(trust),
        guardrails=tuple(guardrails),
        power=tuple(power),
        verdict=verdict,
        true_effects={"watch_time": 0.07, "sessions": -0.02},
        bandit=_bandit(),
    )


def _bandit() -> BanditResult:
    """Two allocation periods of a bandit on watch time (the report's bandit section)."""
    periods = (
        BanditPeriodSummary(
            number=0,
            started_at="2026-01-05T00:00:00+00:00",
            weights={"control": 0.5, "new_recommender": 0.5},
            units={"control": 25_000, "new_recommender": 25_000},
        ),
        BanditPeriodSummary(
            number=1,
            started_at="2026-01-12T00:00:00+00:00",
            weights={"control": 0.2, "new_recommender": 0.8},
            units={"control": 10_000, "new_recommender": 40_000},
        ),
    )
    arms = (
        BanditArm(variant="control", units=35_000, mean=268.0, ci_low=265.0, ci_high=271.0,
                  naive_mean=269.0, p_best=0.0, weight_now=0.2),
        BanditArm(variant="new_recommender", units=65_000, mean=304.0, ci_low=302.0,
                  ci_high=306.0, naive_mean=305.0, effect=36.0, effect_ci_low=32.0,
                  effect_ci_high=40.0, p_best=1.0, weight_now=0.8),
    )  # fmt: skip
    return BanditResult(
        reward="watch_time", policy="thompson", best="new_recommender", p_best=1.0,
        arms=arms, periods=periods,
    )  # fmt: skip
