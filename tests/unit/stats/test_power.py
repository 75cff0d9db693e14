"""Power and sample size against statsmodels' closed forms and power functions."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.power import NormalIndPower, normal_sample_size_one_tail
from statsmodels.stats.proportion import (
    power_proportions_2indep,
    samplesize_proportions_2indep_onetail,
)

from shipit.errors import InputError
from shipit.stats import power as pw

RTOL = 1e-9


@settings(max_examples=80, deadline=None)
@given(
    p1=st.floats(0.01, 0.6),
    lift=st.floats(0.02, 0.5),
    alpha=st.sampled_from([0.01, 0.05, 0.1]),
    target=st.floats(0.5, 0.99),
)
def test_proportion_n_and_power_match_statsmodels(
    p1: float, lift: float, alpha: float, target: float
) -> None:
    diff = p1 * lift
    n = pw.sample_size_proportion(p1, diff, alpha=alpha, power=target)
    ref = samplesize_proportions_2indep_onetail(
        diff, p1, target, ratio=1, alpha=alpha, alternative="two-sided"
    )
    np.testing.assert_allclose(n, ref, rtol=RTOL)
    # achieved power at that n: the one-tail power function at alpha/2 (the formula's model)
    got = pw.power_proportion(p1, diff, n, alpha=alpha)
    sm = power_proportions_2indep(diff, p1, n, ratio=1, alpha=alpha / 2, alternative="larger").power
    np.testing.assert_allclose(got, sm, rtol=RTOL)
    np.testing.assert_allclose(got, target, rtol=1e-9)
    # MDE for that n recovers the difference
    np.testing.assert_allclose(pw.mde_proportion(p1, n, alpha=alpha, power=target), diff, rtol=1e-9)


@settings(max_examples=80, deadline=None)
@given(
    sd=st.floats(0.1, 100),
    delta=st.floats(0.01, 10),
    alpha=st.sampled_from([0.01, 0.05, 0.1]),
    target=st.floats(0.5, 0.99),
)
def test_mean_n_power_mde_match_statsmodels(
    sd: float, delta: float, alpha: float, target: float
) -> None:
    n = pw.sample_size_mean(sd, delta, alpha=alpha, power=target)
    ref = normal_sample_size_one_tail(delta, target, alpha / 2, std_null=sd * math.sqrt(2))
    np.testing.assert_allclose(n, ref, rtol=RTOL)
    sm_power = NormalIndPower().power(delta / sd, n, alpha / 2, ratio=1, alternative="larger")
    np.testing.assert_allclose(pw.power_mean(sd, delta, n, alpha=alpha), sm_power, rtol=RTOL)
    np.testing.assert_allclose(pw.mde_mean(sd, n, alpha=alpha, power=target), delta, rtol=RTOL)


def test_issue_formula_by_hand() -> None:
    p1, p2 = 0.10, 0.11
    za, zb = sps.norm.ppf(0.975), sps.norm.ppf(0.8)
    pbar = (p1 + p2) / 2
    n = (
        za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    ) ** 2 / (p2 - p1) ** 2
    np.testing.assert_allclose(pw.sample_size_proportion(0.10, 0.01), n, rtol=RTOL)
    np.testing.assert_allclose(pw.sample_size_proportion(0.10, 0.1, relative=True), n, rtol=RTOL)


def test_bonferroni_split_variance_reduction_and_days() -> None:
    three = pw.sample_size_mean(2.0, 0.1, variants=3)
    two_at_half_alpha = pw.sample_size_mean(2.0, 0.1, alpha=0.025)
    np.testing.assert_allclose(three, two_at_half_alpha, rtol=RTOL)
    np.testing.assert_allclose(
        pw.sample_size_mean(2.0, 0.1, variance_reduction=0.3),
        0.7 * pw.sample_size_mean(2.0, 0.1),
        rtol=RTOL,
    )
    np.testing.assert_allclose(
        pw.sample_size_proportion(0.1, 0.01, variance_reduction=0.3),
        0.7 * pw.sample_size_proportion(0.1, 0.01),
        rtol=RTOL,
    )
    plan = pw.plan_sample_size("proportion", 0.01, baseline=0.1, variants=3, daily_units=1000)
    per = math.ceil(float(pw.sample_size_proportion(0.1, 0.01, variants=3)))
    assert plan.per_variant == per
    assert plan.total == 3 * per
    assert plan.days == math.ceil(3 * per / 1000)
    assert plan.alpha_per_comparison == 0.025


def test_one_sided_uses_the_full_alpha() -> None:
    np.testing.assert_allclose(
        pw.sample_size_mean(1.0, 0.1, alternative="greater"),
        pw.sample_size_mean(1.0, 0.1, alpha=0.10),
        rtol=RTOL,
    )


def test_relative_mde_for_means_needs_a_baseline() -> None:
    np.testing.assert_allclose(
        pw.sample_size_mean(2.0, 0.05, baseline=4.0, relative=True),
        pw.sample_size_mean(2.0, 0.2),
        rtol=RTOL,
    )
    with pytest.raises(InputError, match="baseline"):
        pw.sample_size_mean(2.0, 0.05, relative=True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "proportion", "mde": 0.01}, "baseline"),
        ({"kind": "mean", "mde": 0.01}, "--sd"),
        ({"kind": "median", "mde": 0.01, "sd": 1.0}, "unknown metric kind"),
        ({"kind": "proportion", "mde": 0.95, "baseline": 0.1}, "strictly between"),
        ({"kind": "mean", "mde": 0.1, "sd": 1.0, "power": 1.2}, "power"),
        ({"kind": "mean", "mde": 0.1, "sd": 1.0, "variants": 1}, "variants"),
        ({"kind": "mean", "mde": 0.1, "sd": 1.0, "variance_reduction": 1.0}, "variance_reduction"),
        ({"kind": "mean", "mde": 0.1, "sd": 1.0, "daily_units": 0}, "daily"),
    ],
)
def test_bad_plans_raise_clear_errors(kwargs: dict[str, object], match: str) -> None:
    kind = kwargs.pop("kind")
    mde = kwargs.pop("mde")
    with pytest.raises(InputError, match=match):
        pw.plan_sample_size(kind, mde, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call",
    [
        lambda n: pw.power_mean(1.0, 0.1, n),
        lambda n: pw.power_proportion(0.1, 0.01, n),
        lambda n: pw.mde_mean(1.0, n),
        lambda n: pw.mde_proportion(0.1, n),
    ],
)
@pytest.mark.parametrize("n", [0.0, -5.0, float("nan")])
def test_non_positive_n_is_refused_not_turned_into_a_power(
    call: Callable[[float], object], n: float
) -> None:
    # n = 0 used to give power Φ(−z) ≈ 0.03 and n < 0 a NaN, both passed off as results.
    with pytest.raises(InputError, match="n \\(units per variant\\) must be > 0"):
        call(n)
