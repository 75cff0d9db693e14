"""Trust checks, power, segments and guardrails against scipy/statsmodels and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.power import NormalIndPower

from shipit.decide.guardrails import guardrail_light
from shipit.decide.power import (
    achieved_power,
    power_check,
    power_info,
    reachable_mde,
    sample_size,
)
from shipit.decide.segments import adjust_segments, cochran_q, heterogeneity
from shipit.decide.trust import (
    balance_check,
    exposure_checks,
    novelty_check,
    simpson_check,
    srm_check,
    srm_chi2,
    srm_locate,
)
from shipit.errors import InputError
from shipit.result.model import Estimate, SegmentEffect
from shipit.stats.moments import Moments


@given(
    st.lists(st.integers(0, 10_000), min_size=2, max_size=5).filter(lambda c: sum(c) > 0),
    st.data(),
)
@settings(max_examples=60, deadline=None)
def test_srm_chi2_matches_scipy(counts: list[int], data: st.DataObject) -> None:
    w = data.draw(st.lists(st.floats(0.1, 5.0), min_size=len(counts), max_size=len(counts)))
    stat, p = srm_chi2([counts], w)
    exp = np.array(w) / sum(w) * sum(counts)
    ref = sps.chisquare(counts, exp)
    assert stat[0] == pytest.approx(ref.statistic, rel=1e-9, abs=1e-9)
    assert p[0] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)


def test_srm_fails_on_cookie_cats_like_split_and_passes_on_a_fair_one() -> None:
    bad = srm_check({"a": 50_000, "b": 48_500}, {"a": 1, "b": 1})
    assert bad.status == "fail"
    assert "sample ratio mismatch" in bad.message
    good = srm_check({"a": 50_000, "b": 49_900}, {"a": 1, "b": 1})
    assert good.status == "pass"
    with pytest.raises(InputError, match="no unit count"):
        srm_check({"a": 1}, {"a": 1, "b": 1})
    with pytest.raises(InputError, match="positive weight"):
        srm_chi2([[1, 2]], [1, 0])


def test_srm_locate_names_the_bad_day() -> None:
    counts = [[1000, 1010], [1000, 990], [1000, 700]]
    check = srm_locate("srm_by_day", ["d1", "d2", "d3"], counts, [1, 1])
    assert check.status == "warn"
    assert "d3" in check.message
    assert "d1" not in check.message


def test_balance_flags_a_shifted_covariate(rng: np.random.Generator) -> None:
    n = 5000
    x_c, x_v = rng.normal(10, 2, n), rng.normal(10.4, 2, n)
    z_c, z_v = rng.normal(0, 1, n), rng.normal(0, 1, n)
    m = Moments.from_arrays(
        ["c"] * n + ["v"] * n,
        {"pre": np.r_[x_c, x_v], "other": np.r_[z_c, z_v]},
    )
    check = balance_check(m["c"], m["v"], ["pre", "other"], adjusted=True, arms=("c", "v"))
    assert check.status == "warn"
    assert "pre" in check.message
    ref = sps.ttest_ind(x_v, x_c, equal_var=False).pvalue
    assert check.details["pre_p_adjusted"] == pytest.approx(min(1.0, 2 * ref), rel=1e-6)
    # The flagged covariate carries its interval: delta-method relative difference by hand.
    mc, mv = x_c.mean(), x_v.mean()
    se = np.sqrt(x_v.var(ddof=1) / n / mc**2 + mv**2 * x_c.var(ddof=1) / n / mc**4)
    r = mv / mc - 1
    want = f"pre of v is {r:+.1%} [{r - 1.96 * se:+.1%}, {r + 1.96 * se:+.1%}] vs c"
    assert want in check.message


def test_exposure_checks_thresholds() -> None:
    multi, phase = exposure_checks(10_000, 5, 500)
    assert multi.status == "pass"
    assert phase.status == "fail"
    assert exposure_checks(10_000, 50, 0)[0].status == "warn"
    with pytest.raises(InputError, match="total_units"):
        exposure_checks(0, 0, 0)


def test_novelty_detects_a_decaying_effect_and_matches_wls() -> None:
    days = np.arange(28)
    est = 0.05 + 0.10 * np.exp(-days / 2.0)
    se = np.full(28, 0.01)
    check = novelty_check(days, est, se)
    assert check.status == "warn"
    assert "novelty" in check.message
    fit = sm.WLS(est, sm.add_constant(days), weights=1 / se**2).fit()
    assert check.details["slope_per_day"] == pytest.approx(fit.params[1], rel=1e-9)
    flat = novelty_check(days, np.full(28, 0.05), se)
    assert flat.status == "pass"
    grows = novelty_check(days, 0.02 + 0.002 * days, se)
    assert "primacy" in grows.message


def test_simpson_flags_a_reversal_with_unequal_mix() -> None:
    # Variant better in both segments, but it got mostly the low-mean segment.
    check = simpson_check(["low", "high"], [1000, 9000], [9000, 1000], [1.0, 5.0], [1.1, 5.1])
    assert check.details["pooled_effect"] == pytest.approx(
        (9000 * 1.1 + 1000 * 5.1) / 10_000 - (1000 * 1.0 + 9000 * 5.0) / 10_000
    )
    assert check.status == "fail"
    ok = simpson_check(["low", "high"], [5000, 5000], [5000, 5000], [1.0, 5.0], [1.1, 5.1])
    assert ok.status == "pass"


def test_power_formulas_match_statsmodels() -> None:
    sd, delta = 2.0, 0.1
    n = sample_size(sd, delta)
    ref = NormalIndPower().solve_power(effect_size=delta / sd, alpha=0.05, power=0.8)
    assert n == pytest.approx(ref, rel=1e-3)
    assert achieved_power(sd, n, delta) == pytest.approx(0.8, abs=1e-3)
    assert reachable_mde(sd, n) == pytest.approx(delta, rel=1e-9)
    ref_p = NormalIndPower().power(effect_size=0.05, nobs1=3000, alpha=0.05)
    assert achieved_power(1.0, 3000, 0.05) == pytest.approx(ref_p, rel=1e-9)


def test_power_info_says_how_much_longer() -> None:
    info = power_info("m", sd=2.0, n=1000, mde=0.05, baseline=2.0, units_per_day=100)
    needed = math.ceil(sample_size(2.0, 0.1))
    assert info.needed_units_per_variant == needed
    assert info.extra_units == needed - 1000
    assert info.extra_days == math.ceil((needed - 1000) / 100)
    assert info.reachable_mde == pytest.approx(reachable_mde(2.0, 1000) / 2.0)
    with pytest.raises(InputError, match="baseline"):
        power_info("m", sd=1.0, n=10, mde=0.1, baseline=0.0)


@given(st.lists(st.tuples(st.floats(-1, 1), st.floats(0.01, 1.0)), min_size=2, max_size=8))
@settings(max_examples=50, deadline=None)
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_cochran_q_matches_statsmodels(rows: list[tuple[float, float]]) -> None:
    y = np.array([r[0] for r in rows])
    se = np.array([r[1] for r in rows])
    q, df, p, i2 = cochran_q(y, se)
    ref = combine_effects(y, se**2)
    assert q == pytest.approx(ref.q, rel=1e-9, abs=1e-9)
    assert df == len(rows) - 1
    assert p == pytest.approx(sps.chi2.sf(ref.q, df), rel=1e-6, abs=1e-6)
    if ref.q > 1e-3:  # statsmodels' I² is 1 − df/Q, unbounded below as Q → 0
        assert i2 == pytest.approx(max(0.0, ref.i2), abs=1e-9)


def _seg(name: str, rel: float, se: float, p: float) -> SegmentEffect:
    est = Estimate(rel_effect=rel, rel_se=se, p_value=p)
    return SegmentEffect(dimension="d", segment=name, metric="m", variant="v", estimate=est)


def test_segments_are_holm_adjusted_and_ranked() -> None:
    segs = [_seg("a", 0.10, 0.02, 0.001), _seg("b", 0.01, 0.02, 0.6), _seg("c", 0.05, 0.02, 0.02)]
    adj = adjust_segments(segs)
    ref = [0.003, 0.6, 0.04]
    assert [s.estimate.p_value_adjusted for s in adj] == pytest.approx(ref)
    (h,) = heterogeneity(adj)
    assert h.strongest == "a"
    assert h.weakest == "b"
    assert h.p_value is not None
    assert h.p_value < 0.05
    with pytest.raises(InputError, match="correction"):
        adjust_segments(segs, correction="nope")


@pytest.mark.parametrize(
    ("estimate", "light"),
    [(-0.001, "green"), (-0.02, "yellow"), (-0.05, "red"), (0.01, "green")],
)
def test_guardrail_lights(estimate: float, light: str) -> None:
    got, p_ni, p_worse, lo, _hi = guardrail_light(estimate, 0.005, 0.02, higher_is_better=True)
    assert got == light
    # Non-inferiority p-value is the one-sided test of H0: effect ≤ −margin.
    assert p_ni == pytest.approx(sps.norm.sf((estimate + 0.02) / 0.005))
    assert p_worse == pytest.approx(1 - p_ni)
    assert lo == pytest.approx(estimate - sps.norm.ppf(0.95) * 0.005)


def test_guardrail_lower_is_better_mirrors() -> None:
    assert guardrail_light(20.0, 2.0, 10.0, higher_is_better=False)[0] == "red"
    assert guardrail_light(2.0, 2.0, 10.0, higher_is_better=False)[0] == "green"
    assert guardrail_light(9.0, 2.0, 10.0, higher_is_better=False)[0] == "yellow"
    with pytest.raises(InputError, match="margin"):
        guardrail_light(0.0, 1.0, -1.0, higher_is_better=True)


def test_power_check_warns_when_short_of_the_plan() -> None:
    short = power_info(
        "m", sd=2.0, n=1000, mde=0.05, baseline=2.0, units_per_day=100, planned_n=5000
    )
    check = power_check(short)
    assert check.status == "warn"
    assert "1,000 units per variant of 5,000 planned" in check.message
    assert f"{short.extra_units:,} more units" in check.message
    enough = power_info("m", sd=2.0, n=10_000, mde=0.05, baseline=2.0)
    assert power_check(enough).status == "pass"


def test_simpson_pooled_effect_carries_its_interval() -> None:
    # Independent check: simulate per-unit data, pool by hand, SE of a difference of means.
    rng = np.random.default_rng(8)
    nc, nv = np.array([400, 1600]), np.array([1600, 400])
    yc = [rng.normal(m, 1.0, n) for m, n in zip([1.0, 5.0], nc, strict=True)]
    yv = [rng.normal(m, 1.0, n) for m, n in zip([1.1, 5.1], nv, strict=True)]
    check = simpson_check(
        ["low", "high"],
        nc,
        nv,
        [y.mean() for y in yc],
        [y.mean() for y in yv],
        var_control=[y.var(ddof=1) / y.size for y in yc],
        var_variant=[y.var(ddof=1) / y.size for y in yv],
    )
    all_c, all_v = np.concatenate(yc), np.concatenate(yv)
    assert check.details["pooled_effect"] == pytest.approx(all_v.mean() - all_c.mean())
    # Within-segment variances only (the mix is taken as given): Σ (n_i/N)² s_i²/n_i per arm.
    se = np.sqrt(
        sum((y.size / 2000) ** 2 * y.var(ddof=1) / y.size for y in yc)
        + sum((y.size / 2000) ** 2 * y.var(ddof=1) / y.size for y in yv)
    )
    assert check.details["pooled_se"] == pytest.approx(se, rel=1e-12)
    pooled = check.details["pooled_effect"]
    assert isinstance(pooled, float)
    assert f"{pooled:+.4g} [{pooled - 1.959963984540054 * se:+.4g}," in check.message


def test_simpson_states_the_unit_of_its_pooled_effect() -> None:
    # each segment +1; pooled: variant 0.8·12 + 0.2·102 = 30 against control 0.2·11 + 0.8·101 = 83
    check = simpson_check(["a", "b"], [200, 800], [800, 200], [11.0, 101.0], [12.0, 102.0])
    assert check.status == "fail"
    assert "pooled difference in means -53 (absolute, in the metric's unit; " in check.message
    assert "-63.86% of the control mean)" in check.message  # -53 / 83
