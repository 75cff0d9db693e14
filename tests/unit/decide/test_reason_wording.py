"""The verdict's reasons name every number by what it is, in the plan's own terms."""

from __future__ import annotations

from shipit.decide import DecisionPolicy, GuardrailPolicy, assemble
from shipit.result.model import Analysis, Effect, Estimate, SegmentEffect


def _est(rel: float, se: float, p: float) -> Estimate:
    return Estimate(
        rel_effect=rel,
        rel_se=se,
        rel_ci_low=rel - 1.96 * se,
        rel_ci_high=rel + 1.96 * se,
        p_value=p,
        abs_effect=rel,
        abs_se=se,
        abs_ci_low=rel - 1.96 * se,
        abs_ci_high=rel + 1.96 * se,
    )


def _eff(metric: str, variant: str, raw: Estimate, cuped: Estimate | None = None, **kw: object):
    return Effect(
        metric=metric,
        variant=variant,
        control="c",
        raw=raw,
        adjusted=cuped,
        n_control=10_000,
        n_variant=10_000,
        **kw,  # type: ignore[arg-type]
    )


def _analysis(effects: list[Effect], policy: DecisionPolicy, **kw: object) -> Analysis:
    variants = ["c", *dict.fromkeys(e.variant for e in effects)]
    return assemble(
        experiment="x", control="c", variants=variants, policy=policy, effects=effects, **kw
    )  # type: ignore[arg-type]


def test_each_p_value_is_named_raw_cuped_or_corrected_by_the_plans_correction() -> None:
    policy = DecisionPolicy(primary="m", mde=0.02, correction="holm")
    effects = [
        _eff("m", "a", _est(0.05, 0.01, 1e-5), _est(0.05, 0.005, 1e-20)),
        _eff("m", "b", _est(0.01, 0.01, 0.3), _est(0.01, 0.005, 0.04)),
    ]
    v = _analysis(effects, policy).verdict
    win, runner = v.reasons[0], v.reasons[1]
    assert v.decision == "ship"
    assert "CUPED p = 1e-20" in win
    assert "Holm-adjusted p = 2e-20 < 0.05" in win  # Holm over two tests doubles the smallest
    assert "raw" not in win
    assert "CUPED p = 0.04, Holm-adjusted p = 0.04" in runner


def test_a_plan_without_correction_names_the_raw_p_value_as_raw() -> None:
    policy = DecisionPolicy(primary="m", mde=0.02, correction="none")
    v = _analysis([_eff("m", "a", _est(0.05, 0.01, 1e-6))], policy).verdict
    assert "raw p = 1e-06 < 0.05" in v.reasons[0]
    assert "adjusted" not in v.reasons[0]


def test_guardrail_intervals_state_their_90_percent_level() -> None:
    policy = DecisionPolicy(
        primary="m", mde=0.02, guardrails=(GuardrailPolicy(metric="g", margin=0.02),)
    )
    effects = [_eff("m", "a", _est(0.05, 0.01, 1e-6)), _eff("g", "a", _est(0.0, 0.005, 1.0))]
    a = _analysis(effects, policy)
    msg = a.guardrails[0].message
    # 1.645 × 0.5% = 0.82%: the one-sided tests' 90% interval, said so
    assert "+0.00% [90% interval -0.82%, +0.82%] stays within the -2.00% margin" in msg
    assert any("90% interval" in r for r in a.verdict.reasons)


def test_no_mde_is_never_written_as_a_zero_mde() -> None:
    policy = DecisionPolicy(primary="m", mde=0.0)
    v = _analysis([_eff("m", "a", _est(0.05, 0.01, 1e-6))], policy).verdict
    assert v.decision == "ship"
    assert "MDE" not in " ".join(v.reasons)
    with_mde = _analysis(
        [_eff("m", "a", _est(0.05, 0.01, 1e-6))], DecisionPolicy(primary="m", mde=0.02)
    )
    assert "above the 2.0% MDE" in with_mde.verdict.reasons[0]


def test_a_bayesian_kill_is_said_in_probability_and_loss_not_p_values() -> None:
    policy = DecisionPolicy(primary="m", mde=0.02, method="bayesian")
    e = _eff("m", "a", _est(-0.05, 0.01, 1e-6), prob_better=0.001, expected_loss=0.05)
    v = _analysis([e], policy).verdict
    assert v.decision == "kill"
    text = " ".join(v.reasons)
    assert "a is likely worse (P(better) ≤ 5.00%)" in text
    assert "P(better) = 0.1%, expected loss 0.05" in text
    assert "p =" not in text
    assert "significantly" not in text


def test_a_p_value_just_above_alpha_is_not_rounded_onto_it() -> None:
    policy = DecisionPolicy(primary="m", mde=0.02, correction="none")
    v = _analysis([_eff("m", "a", _est(0.02, 0.01, 0.0504))], policy).verdict
    assert v.decision == "iterate"
    assert "raw p = 0.0504" in v.reasons[0]


def test_an_underflowed_p_value_reads_below_the_floor_everywhere() -> None:
    policy = DecisionPolicy(primary="m", mde=0.02)
    segs = [
        SegmentEffect(
            dimension="d",
            segment=s,
            metric="m",
            variant="a",
            n_control=5_000,
            n_variant=5_000,
            estimate=_est(r, 0.001, 0.0 if r > 0.1 else 0.5),
        )
        for s, r in (("x", 0.30), ("y", 0.0))
    ]
    a = _analysis([_eff("m", "a", _est(0.01, 0.01, 0.3))], policy, segments=segs)
    v = a.verdict
    assert v.decision == "ship_to_segment"
    text = " ".join(v.reasons)
    assert "effects of a differ across d (Cochran's Q = " in text
    assert "p < 1e-300" in text
    assert "p = 0)" not in text
    assert "p = 0," not in text
