"""Frequentist comparisons against scipy/statsmodels on the same inputs (1e-9 relative)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportions_ztest,
)
from statsmodels.stats.proportion import (
    test_proportions_2indep as sm_test_proportions_2indep,
)

from shipit.stats import Moments, Status, compare

RTOL = 1e-9
ATOL = 1e-13


def _proportions(counts: list[tuple[int, int]]) -> Moments:
    n = np.array([c[0] for c in counts], dtype=float)
    s = np.array([c[1] for c in counts], dtype=float)
    return Moments.from_sums(
        [str(i) for i in range(len(n))], ["y"], n, s[:, None], s[:, None, None]
    )


def _raw_mean(a: np.ndarray) -> Moments:
    return Moments.from_arrays(["g"] * len(a), {"y": a})


def test_proportions_match_statsmodels_vectorized(rng: np.random.Generator) -> None:
    rows = 200
    nc, nv = rng.integers(50, 5000, rows), rng.integers(50, 5000, rows)
    cc, cv = rng.binomial(nc, 0.2), rng.binomial(nv, 0.23)
    res = compare(
        _proportions(list(zip(nc, cc, strict=True))),
        _proportions(list(zip(nv, cv, strict=True))),
        "proportion",
    )
    for i in range(rows):
        stat, p = proportions_ztest([cv[i], cc[i]], [nv[i], nc[i]])
        lo, hi = confint_proportions_2indep(cv[i], nv[i], cc[i], nc[i], method="wald")
        np.testing.assert_allclose(res.statistic[i], stat, rtol=RTOL)
        np.testing.assert_allclose(res.p_value[i], p, rtol=RTOL)
        np.testing.assert_allclose([res.abs_ci_low[i], res.abs_ci_high[i]], [lo, hi], rtol=RTOL)
    assert set(res.status) == {"ok"}


@settings(max_examples=60, deadline=None)
@given(
    nc=st.integers(20, 10**6),
    nv=st.integers(20, 10**6),
    pc=st.floats(0.01, 0.99),
    pv=st.floats(0.01, 0.99),
    alternative=st.sampled_from(["two-sided", "greater", "less"]),
)
def test_proportions_match_statsmodels_hypothesis(
    nc: int, nv: int, pc: float, pv: float, alternative: str
) -> None:
    cc, cv = round(nc * pc), round(nv * pv)
    assume(0 < cc < nc and 0 < cv < nv)  # all-or-nothing groups are degenerate rows
    res = compare(
        _proportions([(nc, cc)]), _proportions([(nv, cv)]), "proportion", alternative=alternative
    )
    sm_alt = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}[alternative]
    stat, p = proportions_ztest([cv, cc], [nv, nc], alternative=sm_alt)
    level = 0.05 if alternative == "two-sided" else 0.10
    lo, hi = confint_proportions_2indep(cv, nv, cc, nc, method="wald", alpha=level)
    np.testing.assert_allclose(res.statistic[0], stat, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(res.p_value[0], p, rtol=RTOL, atol=1e-300)
    np.testing.assert_allclose(
        [res.abs_ci_low[0], res.abs_ci_high[0]], [lo, hi], rtol=RTOL, atol=ATOL
    )


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    a=st.lists(finite, min_size=2, max_size=40),
    b=st.lists(finite, min_size=2, max_size=40),
    alternative=st.sampled_from(["two-sided", "greater", "less"]),
)
def test_means_match_scipy_welch_hypothesis(
    a: list[float], b: list[float], alternative: str
) -> None:
    va, vb = np.array(a), np.array(b)  # a: variant, b: control
    # Sums of squares lose digits when the spread is tiny next to the mean; scipy works on rows.
    assume(va.std() > 1e-2 * (1 + abs(va.mean())) and vb.std() > 1e-2 * (1 + abs(vb.mean())))
    res = compare(_raw_mean(vb), _raw_mean(va), "mean", alternative=alternative)
    ref = sps.ttest_ind(va, vb, equal_var=False, alternative=alternative)
    level = 0.95 if alternative == "two-sided" else 0.90
    ci = sps.ttest_ind(va, vb, equal_var=False).confidence_interval(level)
    rtol = 1e-8  # from sums instead of rows: a few ulps of cancellation in Σy² − (Σy)²/n
    np.testing.assert_allclose(res.statistic[0], ref.statistic, rtol=rtol, atol=1e-10)
    np.testing.assert_allclose(res.p_value[0], ref.pvalue, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(res.df[0], ref.df, rtol=rtol)
    np.testing.assert_allclose(
        [res.abs_ci_low[0], res.abs_ci_high[0]], [ci.low, ci.high], rtol=rtol, atol=1e-9
    )


def test_means_match_scipy_from_stats_to_1e9(rng: np.random.Generator) -> None:
    rows = 500
    n_c, n_v = rng.integers(2, 3000, rows).astype(float), rng.integers(2, 3000, rows).astype(float)
    m_c, m_v = rng.normal(10, 2, rows), rng.normal(10.5, 2, rows)
    sd_c, sd_v = rng.uniform(0.5, 5, rows), rng.uniform(0.5, 5, rows)

    def moments(n: np.ndarray, m: np.ndarray, sd: np.ndarray) -> Moments:
        s = n * m
        sq = sd**2 * (n - 1) + s**2 / n
        return Moments.from_sums(
            [str(i) for i in range(rows)], ["y"], n, s[:, None], sq[:, None, None]
        )

    for alternative in ("two-sided", "greater", "less"):
        res = compare(
            moments(n_c, m_c, sd_c), moments(n_v, m_v, sd_v), "mean", alternative=alternative
        )
        ref = sps.ttest_ind_from_stats(
            m_v, sd_v, n_v, m_c, sd_c, n_c, equal_var=False, alternative=alternative
        )
        np.testing.assert_allclose(res.statistic, ref.statistic, rtol=RTOL)
        np.testing.assert_allclose(res.p_value, ref.pvalue, rtol=RTOL)


def test_cohens_d_matches_pooled_sd_from_rows(rng: np.random.Generator) -> None:
    a, b = rng.normal(1.0, 2.0, 300), rng.normal(1.5, 2.5, 400)
    res = compare(_raw_mean(a), _raw_mean(b), "mean")
    pooled = np.sqrt(
        ((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2)
    )
    np.testing.assert_allclose(res.cohens_d[0], (b.mean() - a.mean()) / pooled, rtol=RTOL)


def test_ratio_matches_linearization_on_rows(rng: np.random.Generator) -> None:
    """Delta-method z-test from moments equals the same test on per-unit linearized rows."""

    def rows(lam: float, n: int) -> tuple[np.ndarray, np.ndarray]:
        den = 1 + rng.poisson(3, n)
        return rng.poisson(lam * den).astype(float), den.astype(float)

    (nc, dc), (nv, dv) = rows(0.3, 800), rows(0.33, 900)

    def mom(num: np.ndarray, den: np.ndarray) -> Moments:
        return Moments.from_arrays(["g"] * num.size, {"num": num, "den": den})

    res = compare(mom(nc, dc), mom(nv, dv), "ratio")
    r_c, r_v = nc.sum() / dc.sum(), nv.sum() / dv.sum()
    lin_c = (nc - r_c * dc) / dc.mean()
    lin_v = (nv - r_v * dv) / dv.mean()
    se = np.sqrt(lin_c.var(ddof=1) / nc.size + lin_v.var(ddof=1) / nv.size)
    z = (r_v - r_c) / se
    np.testing.assert_allclose(res.statistic[0], z, rtol=RTOL)
    np.testing.assert_allclose(res.p_value[0], 2 * sps.norm.sf(abs(z)), rtol=RTOL)
    q = sps.norm.ppf(0.975)
    np.testing.assert_allclose(
        [res.abs_ci_low[0], res.abs_ci_high[0]], [r_v - r_c - q * se, r_v - r_c + q * se], rtol=RTOL
    )
    # relative effect: delta method on the two independent ratio estimates
    rel_se = np.sqrt(
        lin_v.var(ddof=1) / nv.size / r_c**2 + r_v**2 * lin_c.var(ddof=1) / nc.size / r_c**4
    )
    np.testing.assert_allclose(res.rel_effect[0], r_v / r_c - 1, rtol=RTOL)
    np.testing.assert_allclose(res.rel_se[0], rel_se, rtol=RTOL)


# --- published reference cases ----------------------------------------------------------


def test_statsmodels_docstring_example() -> None:
    """proportions_ztest(count=[5, 12], nobs=[83, 99]) gives p = 0.159."""
    res = compare(_proportions([(99, 12)]), _proportions([(83, 5)]), "proportion")
    assert round(float(res.p_value[0]), 3) == 0.159


def test_r_welch_t_test_example() -> None:
    """R: t.test(1:10, y = c(7:20, 200)) → t = −1.6329, df = 14.165, p = 0.1245."""
    x = np.arange(1, 11, dtype=float)
    y = np.array([*range(7, 21), 200], dtype=float)
    res = compare(_raw_mean(y), _raw_mean(x), "mean")
    assert round(float(res.statistic[0]), 4) == -1.6329
    assert round(float(res.df[0]), 3) == 14.165
    assert round(float(res.p_value[0]), 4) == 0.1245


# --- one-sided and non-inferiority ------------------------------------------------------


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_mean_non_inferiority_equals_shifted_scipy(
    rng: np.random.Generator, alternative: str
) -> None:
    a, b = rng.normal(5, 2, 400), rng.normal(4.9, 2, 420)
    margin = 0.3
    res = compare(_raw_mean(a), _raw_mean(b), "mean", alternative=alternative, margin=margin)
    shifted = b + margin if alternative == "greater" else b - margin
    ref = sps.ttest_ind(shifted, a, equal_var=False, alternative=alternative)
    np.testing.assert_allclose(res.statistic[0], ref.statistic, rtol=1e-8)
    np.testing.assert_allclose(res.p_value[0], ref.pvalue, rtol=1e-8)


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_proportion_non_inferiority_equals_statsmodels_wald(alternative: str) -> None:
    nc, cc, nv, cv, margin = 5000, 600, 5100, 590, 0.01
    res = compare(
        _proportions([(nc, cc)]),
        _proportions([(nv, cv)]),
        "proportion",
        alternative=alternative,
        margin=margin,
    )
    value = -margin if alternative == "greater" else margin
    sm_alt = "larger" if alternative == "greater" else "smaller"
    ref = sm_test_proportions_2indep(
        cv, nv, cc, nc, value=value, method="wald", compare="diff", alternative=sm_alt
    )
    np.testing.assert_allclose(res.statistic[0], ref.statistic, rtol=RTOL)
    np.testing.assert_allclose(res.p_value[0], ref.pvalue, rtol=RTOL)


def test_relative_margin_shifts_the_relative_effect() -> None:
    c, v = _proportions([(5000, 600)]), _proportions([(5100, 590)])
    plain = compare(c, v, "proportion")
    res = compare(c, v, "proportion", alternative="greater", margin=0.05, relative_margin=True)
    z = (plain.rel_effect[0] + 0.05) / plain.rel_se[0]
    np.testing.assert_allclose(res.p_value[0], sps.norm.sf(z), rtol=RTOL)


def test_one_sided_interval_is_the_two_alpha_interval() -> None:
    c, v = _proportions([(5000, 600)]), _proportions([(5100, 650)])
    one = compare(c, v, "proportion", alternative="greater", alpha=0.05)
    two = compare(c, v, "proportion", alpha=0.10)
    np.testing.assert_allclose(one.abs_ci_low, two.abs_ci_low, rtol=RTOL)


# --- degenerate inputs ------------------------------------------------------------------


@pytest.mark.filterwarnings("error")
def test_degenerate_rows_give_status_codes_not_exceptions() -> None:
    c = Moments.from_sums(
        ["few", "flat", "zero", "ok"],
        ["y"],
        [1, 50, 50, 50],
        [[1], [0], [0], [10]],
        [[[1]], [[0]], [[0]], [[10]]],
    )
    v = Moments.from_sums(
        ["few", "flat", "zero", "ok"],
        ["y"],
        [10, 50, 50, 50],
        [[3], [0], [5], [12]],
        [[[3]], [[0]], [[5]], [[12]]],
    )
    res = compare(c, v, "proportion")
    assert list(res.status) == [
        Status.TOO_FEW_UNITS,
        Status.ZERO_VARIANCE,
        Status.ZERO_CONTROL_MEAN,
        Status.OK,
    ]
    assert np.isnan(res.p_value[0])
    assert np.isnan(res.p_value[1])
    assert np.isnan(res.rel_effect[2])
    assert np.isfinite(res.p_value[2])
    records = res.records()
    assert records[0]["p_value"] is None
    assert records[2]["rel_ci_low"] is None
    assert records[3]["p_value"] is not None


@pytest.mark.filterwarnings("error")
def test_zero_variance_means_and_zero_denominator_ratios() -> None:
    flat = Moments.from_sums(["a"], ["y"], [10], [[20.0]], [[[40.0]]])
    res = compare(flat, flat, "mean")
    assert res.status[0] == Status.ZERO_VARIANCE
    assert np.isnan(res.p_value[0])
    empty_den = Moments.from_sums(
        ["a"], ["num", "den"], [10], [[0.0, 0.0]], [[[0.0, 0.0], [0.0, 0.0]]]
    )
    ok = Moments.from_sums(
        ["a"], ["num", "den"], [10], [[5.0, 20.0]], [[[5.0, 10.0], [10.0, 50.0]]]
    )
    res = compare(empty_den, ok, "ratio")
    assert res.status[0] == Status.ZERO_DENOMINATOR
    assert np.isnan(res.p_value[0])


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 20), st.integers(1, 10)), min_size=3, max_size=40),
    other=st.lists(st.tuples(st.integers(0, 20), st.integers(1, 10)), min_size=3, max_size=40),
)
def test_ratio_matches_row_linearization_hypothesis(
    rows: list[tuple[int, int]], other: list[tuple[int, int]]
) -> None:
    nc, dc = (np.array(x, dtype=float) for x in zip(*rows, strict=True))
    nv, dv = (np.array(x, dtype=float) for x in zip(*other, strict=True))
    r_c, r_v = nc.sum() / dc.sum(), nv.sum() / dv.sum()
    lin_c, lin_v = (nc - r_c * dc) / dc.mean(), (nv - r_v * dv) / dv.mean()
    se = np.sqrt(lin_c.var(ddof=1) / nc.size + lin_v.var(ddof=1) / nv.size)
    assume(se > 1e-6)
    res = compare(
        Moments.from_arrays(["g"] * nc.size, {"num": nc, "den": dc}),
        Moments.from_arrays(["g"] * nv.size, {"num": nv, "den": dv}),
        "ratio",
    )
    np.testing.assert_allclose(res.abs_se[0], se, rtol=1e-8)
    np.testing.assert_allclose(
        res.p_value[0], 2 * sps.norm.sf(abs(r_v - r_c) / se), rtol=1e-8, atol=1e-14
    )


@pytest.mark.filterwarnings("error")
def test_constant_groups_are_zero_variance_not_significant() -> None:
    # 9.99 for every unit against 10.99 for every unit: the rounding residue of the sums
    # used to give se ≈ 1e-9 and p ≈ 0 with status ok.
    n = 1000
    c = Moments.from_arrays(["a"] * n, {"y": np.full(n, 9.99)})
    v = Moments.from_arrays(["a"] * n, {"y": np.full(n, 10.99)})
    res = compare(c, v, "mean")
    assert res.status[0] == Status.ZERO_VARIANCE
    assert np.isnan(res.p_value[0])
    # A ratio whose numerator is the same multiple of its denominator for every unit.
    rng = np.random.default_rng(3)
    den_c, den_v = rng.integers(1, 10, n).astype(float), rng.integers(1, 10, n).astype(float)
    rc = Moments.from_arrays(["a"] * n, {"num": 0.1 * den_c, "den": den_c})
    rv = Moments.from_arrays(["a"] * n, {"num": 0.3 * den_v, "den": den_v})
    res = compare(rc, rv, "ratio")
    assert res.status[0] == Status.ZERO_VARIANCE
    assert np.isnan(res.p_value[0])


@pytest.mark.filterwarnings("error")
def test_all_or_nothing_proportions_keep_the_pooled_test_but_no_flat_interval() -> None:
    # 10/10 against 0/10: the unpooled se is 0, the pooled one is not.
    c, v = _proportions([(10, 10), (10, 0)]), _proportions([(10, 0), (10, 10)])
    res = compare(c, v, "proportion")
    ref = [proportions_ztest([0, 10], [10, 10])[1], proportions_ztest([10, 0], [10, 10])[1]]
    np.testing.assert_allclose(res.p_value, ref, rtol=RTOL)
    assert list(res.status) == [Status.ZERO_VARIANCE, Status.ZERO_VARIANCE]
    assert np.all(np.isnan(res.abs_ci_low))
    assert np.all(np.isnan(res.abs_ci_high))
    np.testing.assert_array_equal(res.abs_effect, [-1.0, 1.0])


_CELL = st.tuples(st.integers(0, 4), st.integers(0, 4))  # (units, successes) of tiny groups


@pytest.mark.filterwarnings("error")
@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(_CELL, _CELL), min_size=1, max_size=6),
    kind=st.sampled_from(["proportion", "mean"]),
    alternative=st.sampled_from(["two-sided", "greater", "less"]),
)
def test_ok_rows_have_finite_numbers_and_others_a_reason(
    rows: list[tuple[tuple[int, int], tuple[int, int]]], kind: str, alternative: str
) -> None:
    # Tiny 0/1 groups (0 to 4 units) hit every degenerate case; none may raise or warn, and
    # a row marked ok must carry finite numbers and a proper interval.
    def moments(side: int) -> Moments:
        n = np.array([r[side][0] for r in rows], dtype=float)
        k = np.minimum([r[side][1] for r in rows], n)
        return Moments.from_sums([str(i) for i in range(len(rows))], ["y"], n, k, k)

    res = compare(moments(0), moments(1), kind, alternative=alternative)
    ok = res.status == Status.OK
    for name in ("p_value", "abs_ci_low", "abs_ci_high", "abs_se", "statistic", "rel_ci_low"):
        assert np.all(np.isfinite(getattr(res, name)[ok])), name
    assert np.all(res.abs_ci_low[ok] < res.abs_ci_high[ok])
    assert np.all((res.p_value[ok] >= 0) & (res.p_value[ok] <= 1))
    assert set(res.status) <= {s.value for s in Status}
