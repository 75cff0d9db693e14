"""The decision rules one by one, and the error control of each method across variants."""

from __future__ import annotations

import pytest

from shipit.decide import DecisionPolicy, GuardrailPolicy, check_guardrail, decide
from shipit.decide.context import DecisionContext
from shipit.decide.rules import (
    RULES,
    halt_on_failed_trust,
    kill_on_harm,
    roll_back_on_red_guardrails,
    ship_to_segment,
    ship_winner,
)
from shipit.result.model import Effect, Estimate, Heterogeneity, SegmentEffect, TrustCheck, Verdict

POLICY = DecisionPolicy(primary="m", guardrails=(GuardrailPolicy(metric="g", margin=0.02),))


def eff(metric: str, rel: float, se: float, p: float, variant: str = "v", **kw: object) -> Effect:
    est = Estimate(
        rel_effect=rel,
        rel_se=se,
        rel_ci_low=rel - 1.96 * se,
        rel_ci_high=rel + 1.96 * se,
        abs_effect=rel,
        abs_se=se,
        p_value=p,
    )
    return Effect(metric=metric, variant=variant, control="c", raw=est, **kw)  # type: ignore[arg-type]


def seg(
    dim: str, value: str, rel: float, p: float, variant: str = "v", metric: str = "m"
) -> SegmentEffect:
    # p_value_adjusted as a per-dimension correction might leave it: the rule must not rely on it.
    est = Estimate(
        rel_effect=rel, rel_se=0.01, abs_effect=rel, abs_se=0.01, p_value=p, p_value_adjusted=p
    )
    return SegmentEffect(dimension=dim, segment=value, metric=metric, variant=variant, estimate=est)


def het(dim: str, variant: str = "v") -> Heterogeneity:
    return Heterogeneity(dimension=dim, metric="m", variant=variant, q=30.0, df=1, p_value=1e-8)


def verdict(effects: list[Effect], policy: DecisionPolicy = POLICY, **kw: object) -> Verdict:
    guard = [
        check_guardrail(e, g) for g in policy.guardrails for e in effects if e.metric == g.metric
    ]
    return decide(effects, policy, guardrails=guard, **kw)  # type: ignore[arg-type]


def test_the_rules_run_in_the_documented_order() -> None:
    assert [r.__name__ for r in RULES] == [
        "halt_on_failed_trust",
        "roll_back_on_red_guardrails",
        "extend_on_uncertain_guardrail",
        "ship_winner",
        "extend_segment_on_uncertain_guardrail",
        "ship_to_segment",
        "kill_on_harm",
        "kill_on_powered_null",
        "iterate",
    ]


def test_each_rule_stays_silent_outside_its_case() -> None:
    ctx = DecisionContext(effects=[eff("m", 0.0, 0.01, 0.9)], policy=POLICY)
    for rule in (halt_on_failed_trust, roll_back_on_red_guardrails, ship_winner, kill_on_harm):
        assert rule(ctx) is None
    failed = DecisionContext(
        effects=[], policy=POLICY, trust=[TrustCheck(name="srm", status="fail", message="x")]
    )
    halted = halt_on_failed_trust(failed)
    assert halted is not None
    assert halted.decision == "halt"


# --- ship to segment: guardrails first, error control over every segment test -------------

SEGMENTS = [seg("device", "mobile", 0.08, 1e-9), seg("device", "desktop", -0.01, 0.3)]


def test_a_red_guardrail_variant_is_never_shipped_to_a_segment() -> None:
    effects = [
        eff("m", 0.01, 0.01, 0.3, "a"),
        eff("m", 0.01, 0.01, 0.3, "b"),
        eff("g", -0.06, 0.005, 1e-9, "a"),  # red for a
        eff("g", 0.0, 0.005, 1.0, "b"),
    ]
    segs = [seg("device", "mobile", 0.08, 1e-9, "a"), seg("device", "desktop", -0.01, 0.3, "a")]
    v = verdict(effects, segments=segs, heterogeneity=[het("device", "a")])
    assert v.decision == "iterate"
    assert v.variant != "a"


def test_a_yellow_guardrail_extends_instead_of_shipping_to_a_segment() -> None:
    effects = [eff("m", 0.01, 0.01, 0.3), eff("g", -0.02, 0.005, 0.001)]  # g crosses its margin
    v = verdict(effects, segments=SEGMENTS, heterogeneity=[het("device")])
    assert v.decision == "iterate"
    assert v.segments == ("device=mobile",)
    assert any("guardrail uncertain" in r for r in v.reasons)


def test_a_segment_whose_own_guardrail_is_red_is_dropped() -> None:
    effects = [eff("m", 0.01, 0.01, 0.3), eff("g", 0.0, 0.005, 1.0)]
    segs = [*SEGMENTS, seg("device", "mobile", -0.2, 1e-9, metric="g")]
    v = verdict(effects, segments=segs, heterogeneity=[het("device")])
    assert v.decision == "iterate"
    green = [*SEGMENTS, seg("device", "mobile", 0.0, 1.0, metric="g")]
    assert verdict(effects, segments=green, heterogeneity=[het("device")]).decision == (
        "ship_to_segment"
    )


def test_segment_tests_are_corrected_over_every_dimension_and_variant() -> None:
    """p = 0.004 wins among 2 segments (Holm 0.008) but not among 20 (Holm 0.08)."""
    effects = [eff("m", 0.01, 0.01, 0.3), eff("g", 0.0, 0.005, 1.0)]
    few = [seg("device", "mobile", 0.08, 0.004), seg("device", "desktop", -0.01, 0.3)]
    many = few + [seg("country", f"c{i}", 0.0, 0.9) for i in range(18)]
    ctx = DecisionContext(
        effects=effects,
        policy=POLICY,
        guardrails=[check_guardrail(effects[1], POLICY.guardrails[0])],
        segments=few,
        heterogeneity=[het("device")],
    )
    assert ship_to_segment(ctx) is not None
    v = verdict(effects, segments=many, heterogeneity=[het("device")])
    assert v.decision == "iterate"


@pytest.mark.parametrize("method", ["bayesian", "sequential"])
def test_segments_are_exploratory_under_bayesian_and_sequential_plans(method: str) -> None:
    policy = POLICY.model_copy(update={"method": method})
    effects = [eff("m", 0.01, 0.01, 0.3, prob_better=0.8), eff("g", 0.0, 0.005, 1.0)]
    v = verdict(effects, policy, segments=SEGMENTS, heterogeneity=[het("device")])
    assert v.decision == "iterate"
    assert any("segments are exploratory" in r for r in v.reasons)


# --- multiplicity across variants ---------------------------------------------------------


def _bayes(pbs: list[float], correction: str = "holm") -> Verdict:
    policy = POLICY.model_copy(update={"method": "bayesian", "correction": correction})
    effects = [
        eff("m", 0.05, 0.01, 0.5, f"v{i}", prob_better=pb, expected_loss=1e-5)
        for i, pb in enumerate(pbs)
    ] + [eff("g", 0.0, 0.005, 1.0, f"v{i}") for i in range(len(pbs))]
    return verdict(effects, policy)


def test_the_bayesian_threshold_is_bonferroni_across_treatments() -> None:
    """P(better) 0.97 ships alone (≥ 0.95) but not among three (needs ≥ 1 − 0.05/3)."""
    assert _bayes([0.97]).decision == "ship"
    assert _bayes([0.97, 0.5, 0.5]).decision == "iterate"
    assert _bayes([0.99, 0.5, 0.5]).decision == "ship"
    assert any("≥ 98.33%" in r for r in _bayes([0.99, 0.5, 0.5]).reasons)
    assert _bayes([0.97, 0.5, 0.5], correction="none").decision == "ship"


def test_the_frequentist_rule_reads_the_adjusted_p_value() -> None:
    e = eff("m", 0.05, 0.01, 0.01)
    adjusted = e.model_copy(update={"raw": e.raw.model_copy(update={"p_value_adjusted": 0.06})})
    g = eff("g", 0.0, 0.005, 1.0)
    assert verdict([e, g]).decision == "ship"
    assert verdict([adjusted, g]).decision == "iterate"
