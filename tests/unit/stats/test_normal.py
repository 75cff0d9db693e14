"""The normal, χ² and exact-test helpers equal scipy's distributions, and reject bad input.

Both paths are checked: small inputs (the standard library, no scipy import) and large
arrays (``scipy.special``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from shipit.errors import InputError
from shipit.stats.heterogeneity import cochran_q
from shipit.stats.normal import (
    binomial_test,
    chi2_sf,
    contingency_p_value,
    normal_cdf,
    normal_isf,
    normal_ppf,
    normal_quantile,
    normal_sf,
    sign_test_p_values,
    two_sided_p,
    z_critical,
)

XS = np.array([-37.0, -8.5, -3.0, -1.959964, -0.1, 0.0, 0.3, 1.644854, 5.0, 9.0, 37.0])
PS = np.array([1e-300, 1e-12, 1e-4, 0.025, 0.2, 0.5, 0.8, 0.975, 0.9999, 1 - 1e-12])


@pytest.mark.parametrize("size", [len(XS), 1000])
def test_cdf_and_sf_match_scipy_in_both_tails(size: int) -> None:
    x = np.resize(XS, size)
    np.testing.assert_allclose(normal_cdf(x), sps.norm.cdf(x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(normal_sf(x), sps.norm.sf(x), rtol=1e-12, atol=0)


@pytest.mark.parametrize("size", [len(PS), 1000])
def test_ppf_and_isf_match_scipy(size: int) -> None:
    p = np.resize(PS, size)
    np.testing.assert_allclose(normal_ppf(p), sps.norm.ppf(p), rtol=1e-12)
    np.testing.assert_allclose(normal_isf(p), sps.norm.isf(p), rtol=1e-12)


def test_large_arrays_match_scipy_to_the_subnormal_tails() -> None:
    x = np.linspace(-38.0, 38.0, 301)
    np.testing.assert_allclose(normal_cdf(x), sps.norm.cdf(x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(normal_sf(x), sps.norm.sf(x), rtol=1e-12, atol=0)


def test_edges_follow_scipy() -> None:
    p = np.array([0.0, 1.0, -0.1, 1.1, np.nan])
    np.testing.assert_array_equal(normal_ppf(p), sps.norm.ppf(p))
    np.testing.assert_array_equal(normal_isf(p), sps.norm.isf(p))
    x = np.array([-np.inf, np.inf, np.nan])
    np.testing.assert_array_equal(normal_cdf(x), sps.norm.cdf(x))


def test_scalars_stay_scalars_and_shapes_are_kept() -> None:
    assert np.ndim(normal_ppf(0.975)) == 0
    assert isinstance(normal_cdf(0.3), float)
    assert float(normal_ppf(0.975)) == pytest.approx(1.959963984540054, rel=1e-15)
    assert normal_cdf(np.zeros((2, 3))).shape == (2, 3)


@settings(max_examples=50, deadline=None)
@given(st.floats(-30, 30))
def test_scalar_tails_equal_scipy(z: float) -> None:
    assert normal_cdf(z) == pytest.approx(sps.norm.cdf(z), rel=1e-12, abs=1e-300)
    assert normal_sf(z) == pytest.approx(sps.norm.sf(z), rel=1e-12, abs=1e-300)
    assert two_sided_p(z) == pytest.approx(2 * sps.norm.sf(abs(z)), rel=1e-12, abs=1e-300)


@settings(max_examples=50, deadline=None)
@given(st.floats(1e-12, 1 - 1e-12))
def test_normal_quantile_equals_scipy(q: float) -> None:
    assert normal_quantile(q) == pytest.approx(sps.norm.ppf(q), rel=1e-12, abs=1e-12)


@given(st.floats(min_value=1e-250, max_value=1 - 1e-15))
def test_ppf_inverts_cdf(p: float) -> None:
    assert float(normal_cdf(normal_ppf(p))) == pytest.approx(p, rel=1e-9)


def test_z_critical_is_the_normal_quantile_of_each_side() -> None:
    assert z_critical(0.05) == pytest.approx(1.959963984540054, abs=1e-12)
    assert z_critical(0.05, sides=1) == pytest.approx(sps.norm.isf(0.05), abs=1e-12)
    with pytest.raises(InputError, match="alpha"):
        z_critical(1.5)
    with pytest.raises(InputError, match="sides"):
        z_critical(0.05, sides=3)


def test_chi2_and_contingency_equal_scipy() -> None:
    for q, df in [(0.5, 1), (3.2, 2), (40.0, 7)]:
        assert chi2_sf(q, df) == pytest.approx(sps.chi2.sf(q, df), rel=1e-12)
    table = np.array([[120, 80, 33], [100, 95, 41]])
    assert contingency_p_value(table) == pytest.approx(sps.chi2_contingency(table).pvalue)
    two = np.array([[12, 30], [20, 18]])  # 2 × 2: Yates' continuity correction, as scipy
    assert contingency_p_value(two) == pytest.approx(sps.chi2_contingency(two).pvalue)


def test_cochran_q_p_value_is_the_chi2_tail() -> None:
    q, df, p, i2 = cochran_q([0.1, 0.3, -0.05], [0.05, 0.1, 0.08])
    assert df == 2
    assert p == pytest.approx(sps.chi2.sf(q, df), rel=1e-12)
    assert i2 == pytest.approx(max(0.0, (q - df) / q))


@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_sign_test_matches_scipy_binomtest(kn: tuple[int, int]) -> None:
    k, n = kn
    expected = sps.binomtest(k, n, 0.5).pvalue
    assert sign_test_p_values([k], [n])[0] == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_sign_test_without_trials_is_one_and_bad_counts_fail() -> None:
    assert sign_test_p_values([0], [0])[0] == 1.0
    with pytest.raises(InputError, match="wins"):
        sign_test_p_values([5], [3])


def test_binomial_test_gives_the_clopper_pearson_interval() -> None:
    t = binomial_test(7, 20, level=0.9)
    # Clopper–Pearson from Beta quantiles (an independent closed form)
    assert t.lower == pytest.approx(sps.beta.ppf(0.05, 7, 14), rel=1e-9)
    assert t.upper == pytest.approx(sps.beta.ppf(0.95, 8, 13), rel=1e-9)
    assert t.share == 7 / 20
    assert t.p_value == pytest.approx(sps.binomtest(7, 20).pvalue, rel=1e-12)
    with pytest.raises(InputError, match="k=21"):
        binomial_test(21, 20)


def test_bad_inputs_are_named() -> None:
    with pytest.raises(InputError, match="probability"):
        normal_quantile(1.0)
    with pytest.raises(InputError, match="contingency"):
        contingency_p_value([1, 2, 3])
    with pytest.raises(InputError, match="standard errors"):
        cochran_q([0.1, 0.2], [0.1])
