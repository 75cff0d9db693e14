"""Each decision rule on constructed inputs whose right answer is known."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipit.decide import DecisionPolicy, GuardrailPolicy, check_guardrail, decide
from shipit.decide.verdict import pareto_set, rollout_plan, utility
from shipit.errors import InputError
from shipit.result.model import (
    Effect,
    Estimate,
    Heterogeneity,
    PowerInfo,
    SegmentEffect,
    SequentialBounds,
    TrustCheck,
)

POLICY = DecisionPolicy(
    primary="m", mde=0.02, guardrails=(GuardrailPolicy(metric="g", margin=0.02),)
)


def eff(metric: str, rel: float, se: float, p: float, variant: str = "v", **kw: object) -> Effect:
    z = 1.96
    est = Estimate(
        rel_effect=rel,
        rel_se=se,
        rel_ci_low=rel - z * se,
        rel_ci_high=rel + z * se,
        p_value=p,
        abs_effect=rel,
        abs_se=se,
        abs_ci_low=rel - z * se,
        abs_ci_high=rel + z * se,
    )
    return Effect(
        metric=metric,
        variant=variant,
        control="c",
        raw=est,
        n_control=10_000,
        n_variant=10_000,
        **kw,
    )  # type: ignore[arg-type]


def run(effects: list[Effect], policy: DecisionPolicy = POLICY, **kw: object):
    guard = [
        check_guardrail(e, g) for g in policy.guardrails for e in effects if e.metric == g.metric
    ]
    return decide(effects, policy, guardrails=guard, **kw)  # type: ignore[arg-type]


def test_ship_when_significant_practical_and_guardrails_green() -> None:
    v = run([eff("m", 0.05, 0.01, 1e-6), eff("g", 0.0, 0.005, 1.0)])
    assert v.decision == "ship"
    assert v.variant == "v"
    assert [s.percent for s in v.rollout] == [1.0, 5.0, 25.0, 50.0, 100.0]
    assert any("g worse than -2%" in c for c in v.rollout[0].rollback_if)
    assert v.holdout_percent == 5.0
    assert "+5.00%" in v.reasons[0]


def test_halt_beats_everything() -> None:
    trust = [TrustCheck(name="srm", status="fail", message="split 60/40")]
    v = run([eff("m", 0.05, 0.01, 1e-6), eff("g", 0.0, 0.005, 1.0)], trust=trust)
    assert v.decision == "halt"
    assert "split 60/40" in v.reasons[0]


def test_roll_back_on_a_red_guardrail() -> None:
    v = run([eff("m", 0.05, 0.01, 1e-6), eff("g", -0.06, 0.005, 1e-9)])
    assert v.decision == "roll_back"
    assert "g (v)" in v.reasons[0]
    assert "significantly worse" in v.reasons[0]


def test_iterate_when_a_guardrail_is_yellow() -> None:
    power = [PowerInfo(metric="m", mde=0.02, units_per_variant=10_000, extra_units=0, extra_days=0)]
    v = run([eff("m", 0.05, 0.01, 1e-6), eff("g", -0.02, 0.005, 0.001)], power=power)
    assert v.decision == "iterate"
    assert any("guardrail uncertain" in r for r in v.reasons)


def test_significant_but_below_mde_is_not_shipped() -> None:
    power = [
        PowerInfo(
            metric="m",
            mde=0.02,
            units_per_variant=10_000,
            achieved_power=0.5,
            extra_units=5000,
            extra_days=4,
        )
    ]
    v = run([eff("m", 0.01, 0.003, 0.001), eff("g", 0.0, 0.005, 1.0)], power=power)
    assert v.decision == "iterate"
    assert v.extra_units == 5000
    assert v.extra_days == 4
    assert "5,000 more units" in v.reasons[-1]


def test_kill_when_significantly_worse() -> None:
    v = run([eff("m", -0.05, 0.01, 1e-6), eff("g", 0.0, 0.005, 1.0)])
    assert v.decision == "kill"


def test_kill_on_a_well_powered_null() -> None:
    power = [PowerInfo(metric="m", mde=0.02, units_per_variant=10_000, achieved_power=0.95)]
    v = run([eff("m", 0.001, 0.005, 0.8), eff("g", 0.0, 0.005, 1.0)], power=power)
    assert v.decision == "kill"
    assert "well-powered null" in v.reasons[0]


def test_underpowered_null_iterates() -> None:
    power = [
        PowerInfo(
            metric="m",
            mde=0.02,
            units_per_variant=1000,
            achieved_power=0.3,
            extra_units=9000,
            extra_days=9,
        )
    ]
    v = run([eff("m", 0.01, 0.02, 0.6), eff("g", 0.0, 0.005, 1.0)], power=power)
    assert v.decision == "iterate"
    assert v.extra_days == 9


def test_ship_to_segment_when_only_one_segment_wins() -> None:
    segs = [
        SegmentEffect(
            dimension="device",
            segment="mobile",
            metric="m",
            variant="v",
            estimate=Estimate(
                rel_effect=0.08,
                rel_se=0.01,
                rel_ci_low=0.0604,
                rel_ci_high=0.0996,
                p_value=1e-9,
                p_value_adjusted=2e-9,
            ),
        ),
        SegmentEffect(
            dimension="device",
            segment="desktop",
            metric="m",
            variant="v",
            estimate=Estimate(rel_effect=-0.01, rel_se=0.01, p_value=0.3, p_value_adjusted=0.3),
        ),
    ]
    het = [Heterogeneity(dimension="device", metric="m", variant="v", q=40.5, df=1, p_value=1e-10)]
    v = run(
        [eff("m", 0.01, 0.01, 0.3), eff("g", 0.0, 0.005, 1.0)], segments=segs, heterogeneity=het
    )
    assert v.decision == "ship_to_segment"
    assert v.segments == ("device=mobile",)
    assert any("Cochran's Q = 40.50" in r for r in v.reasons)
    line = (
        "device=mobile (v): +8.00% [+6.04%, +9.96%] "
        "(Holm-adjusted p over all segment tests = 2e-09)"
    )
    assert line in v.reasons


def test_bayesian_rule() -> None:
    pol = POLICY.model_copy(update={"method": "bayesian"})
    win = eff("m", 0.05, 0.01, 0.5, prob_better=0.99, expected_loss=0.0001)
    assert run([win, eff("g", 0.0, 0.005, 1.0)], pol).decision == "ship"
    lossy = eff("m", 0.05, 0.01, 0.5, prob_better=0.99, expected_loss=0.01)
    assert run([lossy, eff("g", 0.0, 0.005, 1.0)], pol).decision == "iterate"
    lose = eff("m", -0.05, 0.01, 0.5, prob_better=0.01, expected_loss=0.05)
    assert run([lose, eff("g", 0.0, 0.005, 1.0)], pol).decision == "kill"


def test_sequential_rule() -> None:
    pol = POLICY.model_copy(update={"method": "sequential"})
    bounds = SequentialBounds(
        crossed="upper", statistic=5.0, lower=-0.0245, upper=0.0245, information_fraction=0.6
    )
    up = eff("m", 0.05, 0.01, 0.5, sequential=bounds)
    shipped = run([up, eff("g", 0.0, 0.005, 1.0)], pol)
    assert shipped.decision == "ship"
    assert (
        "boundary is crossed (z = 5.00, bounds [-2.45%, +2.45%] on the lift, at 60% of the "
        "planned information)" in shipped.reasons[0]
    )
    none = eff("m", 0.05, 0.01, 1e-6, sequential=SequentialBounds(crossed="none"))
    assert run([none, eff("g", 0.0, 0.005, 1.0)], pol).decision == "iterate"
    down = eff("m", -0.05, 0.01, 0.5, sequential=SequentialBounds(crossed="lower"))
    assert run([down, eff("g", 0.0, 0.005, 1.0)], pol).decision == "kill"


def test_multi_variant_picks_best_and_runner_up_and_utility() -> None:
    effects = [
        eff("m", 0.10, 0.01, 1e-9, variant="a"),
        eff("m", 0.20, 0.01, 1e-9, variant="b"),
        eff("m", 0.15, 0.01, 1e-9, variant="c"),
        eff("g", 0.0, 0.005, 1.0, variant="a"),
        eff("g", 0.0, 0.005, 1.0, variant="b"),
        eff("g", 0.05, 0.005, 1.0, variant="c"),
    ]
    v = run(effects)
    assert (v.decision, v.variant, v.runner_up) == ("ship", "b", "c")
    assert set(v.pareto) == {"b", "c"}
    weighted = POLICY.model_copy(update={"weights": {"m": 1.0, "g": 3.0}})
    w = run(effects, weighted)
    assert w.variant == "c"  # 0.15 + 3·0.05 > 0.20
    assert w.utility["c"] == pytest.approx(0.30)
    assert utility(effects, {"m": 1.0}, ["a"]) == {"a": pytest.approx(0.10)}
    assert pareto_set(effects, ["a", "b"]) == ("b",)


def test_a_red_variant_is_skipped_for_the_next_best() -> None:
    effects = [
        eff("m", 0.20, 0.01, 1e-9, variant="a"),
        eff("m", 0.10, 0.01, 1e-9, variant="b"),
        eff("g", -0.10, 0.005, 1e-9, variant="a"),
        eff("g", 0.0, 0.005, 1.0, variant="b"),
    ]
    v = run(effects)
    assert (v.decision, v.variant) == ("ship", "b")
    assert any("not shipped" in r and "g (a)" in r for r in v.reasons)


def test_missing_primary_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="primary metric 'm'"):
        decide([eff("x", 0.1, 0.01, 0.01)], POLICY)


def test_rollout_plan_lists_guardrails_as_rollback_criteria() -> None:
    steps = rollout_plan([], "m")
    assert [s.min_days for s in steps] == [1, 2, 3, 7, 14]
    assert steps[-1].rollback_if == ("m significantly worse than control",)


@given(
    st.lists(
        st.tuples(
            st.floats(-0.2, 0.2),
            st.floats(0.001, 0.05),
            st.floats(0, 1),
            st.floats(-0.1, 0.1),
            st.floats(0.001, 0.05),
        ),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["pass", "warn", "fail"]),
)
@settings(max_examples=150, deadline=None)
def test_verdict_invariants(
    rows: list[tuple[float, float, float, float, float]], trust_status: str
) -> None:
    """Whatever the numbers: a failed check halts; nothing ships with a non-green guardrail;
    a shipped variant is significant, in the right direction and above the MDE."""
    effects = []
    for i, (rel, se, p, g_rel, g_se) in enumerate(rows):
        effects += [
            eff("m", rel, se, p, variant=f"v{i}"),
            eff("g", g_rel, g_se, 0.5, variant=f"v{i}"),
        ]
    trust = [TrustCheck(name="x", status=trust_status, message="x")]  # type: ignore[arg-type]
    guard = [check_guardrail(e, POLICY.guardrails[0]) for e in effects if e.metric == "g"]
    v = decide(effects, POLICY, guardrails=guard, trust=trust)
    if trust_status == "fail":
        assert v.decision == "halt"
        return
    assert v.decision != "halt"
    if v.decision == "ship":
        assert all(g.light == "green" for g in guard if g.variant == v.variant)
        e = next(e for e in effects if e.metric == "m" and e.variant == v.variant)
        assert e.raw.rel_effect is not None
        assert e.raw.rel_effect >= POLICY.mde
        assert e.raw.p_value is not None
        assert e.raw.p_value < POLICY.alpha
    if v.decision == "roll_back":
        assert all(
            any(g.light == "red" for g in guard if g.variant == f"v{i}") for i in range(len(rows))
        )


def test_guardrail_on_its_margin_cannot_be_settled_by_extending() -> None:
    """Estimate exactly at -margin: no sample settles it, so no unit count is advised."""
    power = [PowerInfo(metric="m", mde=0.02, units_per_variant=10_000, extra_units=0, extra_days=0)]
    v = run([eff("m", 0.05, 0.01, 1e-6), eff("g", -0.02, 0.005, 0.001)], power=power)
    assert v.decision == "iterate"
    assert v.extra_units is None
    assert "extending cannot settle the guardrail" in v.reasons[-1]
    assert "roll back" in v.reasons[-1]


def test_guardrail_needing_over_ten_times_the_sample_says_decide() -> None:
    # gap 0.001, se 0.005 → factor (0.005·(1.645+0.842)/0.001)² ≈ 155 > 10.
    power = [PowerInfo(metric="m", mde=0.02, units_per_variant=10_000, extra_units=0, extra_days=0)]
    v = run([eff("m", 0.05, 0.01, 1e-6), eff("g", -0.019, 0.005, 0.001)], power=power)
    assert v.extra_units is None
    assert "155× the current 10,000 units" in v.reasons[-1]


def test_guardrail_within_reach_gets_a_unit_count() -> None:
    # gap 0.005, se 0.005 → factor (1.645 + 0.842)² ≈ 6.18: about 51,825 more units.
    power = [PowerInfo(metric="m", mde=0.02, units_per_variant=10_000, extra_units=0, extra_days=0)]
    v = run([eff("m", 0.05, 0.01, 1e-6), eff("g", -0.015, 0.005, 0.03)], power=power)
    assert v.extra_units is not None
    assert 51_700 < v.extra_units < 51_950
    assert f"about {v.extra_units:,} more units" in v.reasons[-1]


def test_primary_mde_out_of_reach_says_decide() -> None:
    power = [
        PowerInfo(
            metric="m",
            mde=0.02,
            units_per_variant=1000,
            needed_units_per_variant=50_000,
            achieved_power=0.1,
            extra_units=49_000,
            extra_days=49,
        )
    ]
    v = run([eff("m", 0.01, 0.02, 0.6), eff("g", 0.0, 0.005, 1.0)], power=power)
    assert v.decision == "iterate"
    assert v.extra_units is None
    assert v.extra_days is None
    assert "50.0× the current 1,000 units" in v.reasons[-1]


def test_a_factor_just_over_ten_does_not_read_as_ten() -> None:
    # gap 0.00386, se 0.005 → factor (0.005·2.486/0.00386)² ≈ 10.4: over the limit.
    power = [PowerInfo(metric="m", mde=0.02, units_per_variant=10_000, extra_units=0, extra_days=0)]
    v = run([eff("m", 0.05, 0.01, 1e-6), eff("g", -0.01614, 0.005, 0.2)], power=power)
    assert v.extra_units is None
    assert "about 10.4× the current 10,000 units" in v.reasons[-1]
