"""assemble(): corrections, heterogeneity, guardrails and the verdict added to the parts."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from shipit.decide import DecisionPolicy, GuardrailPolicy, assemble
from shipit.decide.assemble import adjust_effects
from shipit.decide.build import (
    effects_from_comparison,
    estimate_from,
    segment_effects_from_comparison,
)
from shipit.errors import InputError
from shipit.result.model import Effect, Estimate, SegmentEffect, SequentialBounds
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments


def _effect(metric: str, variant: str, p: float, rel: float = 0.05) -> Effect:
    est = Estimate(
        rel_effect=rel,
        rel_se=0.01,
        rel_ci_low=rel - 0.02,
        rel_ci_high=rel + 0.02,
        abs_effect=rel,
        abs_se=0.01,
        p_value=p,
    )
    return Effect(metric=metric, variant=variant, control="c", raw=est, adjusted=est)


def _reference(p: list[float], correction: str) -> list[float]:
    """statsmodels' adjusted p-values (the independent reference), ``none`` as given."""
    if correction == "none":
        return list(p)
    method = {"bh": "fdr_bh"}.get(correction, correction)
    return list(multipletests(p, method=method)[1])


@pytest.mark.parametrize("correction", ["none", "bonferroni", "holm", "bh"])
def test_the_family_is_every_primary_and_secondary_comparison(
    correction: str, rng: np.random.Generator
) -> None:
    """One family over metrics × variants; guardrails and other metrics stay uncorrected."""
    p = list(rng.uniform(0, 0.1, 6))
    effects = [
        _effect("m", "a", p[0]),
        _effect("m", "b", p[1]),
        _effect("s", "a", p[2]),
        _effect("s", "b", p[3]),
        _effect("g", "a", p[4]),
        _effect("g", "b", p[5]),
    ]
    out = adjust_effects(effects, family=("m", "s"), correction=correction)
    got = [e.best.p_value_adjusted for e in out[:4]]
    assert got == pytest.approx(_reference(p[:4], correction), rel=1e-12)
    assert [e.best.p_value_adjusted for e in out[4:]] == [None, None]


@pytest.mark.parametrize("correction", ["bonferroni", "holm", "bh"])
def test_raw_estimates_beside_cuped_are_a_family_of_their_own(correction: str) -> None:
    raw_p, cuped_p = [0.04, 0.01, 0.03], [0.02, 0.005, 0.2]
    effects = [
        _effect("m", v, rp).model_copy(
            update={"adjusted": Estimate(rel_effect=0.05, rel_se=0.01, p_value=cp)}
        )
        for v, rp, cp in zip("abc", raw_p, cuped_p, strict=True)
    ]
    out = adjust_effects(effects, family=("m",), correction=correction)
    assert [e.best.p_value_adjusted for e in out] == pytest.approx(_reference(cuped_p, correction))
    assert [e.raw.p_value_adjusted for e in out] == pytest.approx(_reference(raw_p, correction))


@pytest.mark.parametrize("correction", ["none", "bonferroni", "holm", "bh"])
def test_segments_are_corrected_within_each_dimension(
    correction: str, rng: np.random.Generator
) -> None:
    """Every segment × variant of one dimension is one family; dimensions are separate."""
    segs = [
        SegmentEffect(
            dimension=d,
            segment=s,
            metric="m",
            variant=v,
            estimate=Estimate(rel_effect=0.01, rel_se=0.01, p_value=float(rng.uniform(0, 0.2))),
        )
        for d, values in (("device", "xy"), ("country", "pqr"))
        for v in "ab"
        for s in values
    ]
    policy = DecisionPolicy(primary="m", correction=correction)  # type: ignore[arg-type]
    a = assemble(
        experiment="e",
        control="c",
        variants=("c", "a", "b"),
        policy=policy,
        effects=[_effect("m", "a", 0.5, rel=0.0), _effect("m", "b", 0.5, rel=0.0)],
        segments=segs,
    )
    for dim in ("device", "country"):
        rows = [s for s in a.segments if s.dimension == dim]
        p = [s.estimate.p_value for s in rows]
        got = [s.estimate.p_value_adjusted for s in rows]
        assert got == pytest.approx(_reference(p, correction), rel=1e-12)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("correction", "decision"),
    [("none", "ship"), ("bonferroni", "iterate"), ("holm", "iterate"), ("bh", "ship")],
)
def test_the_verdict_reads_the_plans_correction(correction: str, decision: str) -> None:
    """p = 0.03 on the primary ships alone; with three secondaries at p = 0.04 (4 tests)
    Bonferroni and Holm make it 0.12 and 0.12, BH keeps it at 0.04."""
    policy = DecisionPolicy(
        primary="m",
        secondary=("s", "t", "u"),
        correction=correction,  # type: ignore[arg-type]
    )
    effects = [_effect("m", "a", 0.03)] + [_effect(x, "a", 0.04) for x in "stu"]
    a = assemble(experiment="e", control="c", variants=("c", "a"), policy=policy, effects=effects)
    assert a.verdict.decision == decision
    primary = a.effect("m", "a")
    assert primary is not None
    ref = _reference([0.03, 0.04, 0.04, 0.04], correction)[0]
    assert primary.best.p_value_adjusted == pytest.approx(ref)


def test_assemble_fills_every_derived_part() -> None:
    segs = [
        SegmentEffect(
            dimension="d",
            segment=s,
            metric="m",
            variant="a",
            estimate=Estimate(rel_effect=r, rel_se=0.01, p_value=p),
        )
        for s, r, p in (("x", 0.10, 1e-9), ("y", 0.0, 0.9))
    ]
    policy = DecisionPolicy(
        primary="m", mde=0.01, guardrails=(GuardrailPolicy(metric="g", margin=0.05),)
    )
    a = assemble(
        experiment="e",
        control="c",
        variants=("c", "a"),
        policy=policy,
        effects=[_effect("m", "a", 1e-6), _effect("g", "a", 0.5, rel=0.0)],
        segments=segs,
        units={"c": 10, "a": 10},
    )
    assert a.verdict.decision == "ship"
    assert [g.light for g in a.guardrails] == ["green"]
    assert a.segments[0].estimate.p_value_adjusted == pytest.approx(2e-9)
    (h,) = a.heterogeneity
    assert h.strongest == "x"
    assert a.metrics == ("m", "g")
    assert a.guardrail_metrics == ("g",)


def test_assemble_rejects_inconsistent_parts() -> None:
    policy = DecisionPolicy(primary="m", guardrails=(GuardrailPolicy(metric="g", margin=0.05),))
    with pytest.raises(InputError, match="control 'z'"):
        assemble(experiment="e", control="z", variants=("c", "a"), policy=policy, effects=[])
    with pytest.raises(InputError, match="guardrail metric 'g'"):
        assemble(
            experiment="e",
            control="c",
            variants=("c", "a"),
            policy=policy,
            effects=[_effect("m", "a", 0.01)],
        )


def test_effects_from_comparison_carry_every_number(rng: np.random.Generator) -> None:
    y = np.r_[rng.normal(10, 2, 500), rng.normal(10.5, 2, 500)]
    m = Moments.from_arrays(["c"] * 500 + ["v"] * 500, {"y": y})
    res = compare(m["c"], m["v"], "mean")
    (e,) = effects_from_comparison(
        res, metrics=["m"], variants=["v"], control="c", kinds=["mean"], higher_is_better=[True]
    )
    # Independent reference: Welch's difference of means and its standard error by hand.
    yc, yv = y[:500], y[500:]
    se = np.sqrt(yc.var(ddof=1) / 500 + yv.var(ddof=1) / 500)
    assert e.raw.abs_effect == pytest.approx(yv.mean() - yc.mean(), rel=1e-9)
    assert e.raw.abs_se == pytest.approx(se, rel=1e-9)
    assert e.raw.rel_effect == pytest.approx(yv.mean() / yc.mean() - 1.0, rel=1e-9)
    assert e.raw.p_value == pytest.approx(float(res.p_value[0]))
    assert e.n_control == 500
    assert e.best is e.raw
    with pytest.raises(InputError, match="row 3"):
        estimate_from(res, 3)
    with pytest.raises(InputError, match="one metric, variant"):
        effects_from_comparison(
            res, metrics=[], variants=["v"], control="c", kinds=["mean"], higher_is_better=[True]
        )


def test_converters_carry_posterior_sequential_and_segment_rows(rng: np.random.Generator) -> None:
    """The pipeline's own path: posterior and sequential values per row, segments of variants."""
    y = np.r_[rng.normal(10, 2, 300), rng.normal(10.5, 2, 300), rng.normal(10, 2, 300)]
    m = Moments.from_arrays(["c"] * 300 + ["a"] * 300 + ["b"] * 300, {"y": y})
    c = Moments(("c1", "c2"), m.names, m["c"].matrix.repeat(2, axis=0))
    res = compare(c, m[["a", "b"]], "mean")
    seq = [SequentialBounds(crossed="upper"), SequentialBounds(crossed="none")]
    a, b = effects_from_comparison(
        res,
        metrics=["m", "m"],
        variants=["a", "b"],
        control="c",
        kinds=["mean", "mean"],
        higher_is_better=[True, True],
        prob_better=[0.99, 0.4],
        expected_loss=[1e-4, 0.2],
        sequential=seq,
    )
    assert (a.prob_better, b.expected_loss) == (0.99, 0.2)
    assert a.sequential == seq[0]
    assert b.sequential == seq[1]
    with pytest.raises(InputError, match="1 prob_better rows for 2"):
        effects_from_comparison(
            res,
            metrics=["m", "m"],
            variants=["a", "b"],
            control="c",
            kinds=["mean", "mean"],
            higher_is_better=[True, True],
            prob_better=[0.5],
        )
    segs = segment_effects_from_comparison(
        res, dimension="d", segments=["x", "y"], metric="m", variant=["a", "b"], raw=res
    )
    assert [s.variant for s in segs] == ["a", "b"]
    assert segs[1].raw == segs[1].estimate == estimate_from(res, 1)
    with pytest.raises(InputError, match="1 segment and 2 variant names"):
        segment_effects_from_comparison(
            res, dimension="d", segments=["x"], metric="m", variant=["a", "b"]
        )
