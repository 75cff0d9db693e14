"""The elementary distributions and exact tests agree with scipy's reference functions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from shipit.errors import InputError
from shipit.stats.elementary import (
    binomial_test,
    normal_cdf,
    normal_ppf,
    normal_sf,
    sign_test_p_values,
    z_critical,
)


def test_normal_functions_match_scipy() -> None:
    x = np.linspace(-38.0, 38.0, 301)
    np.testing.assert_allclose(normal_cdf(x), sps.norm.cdf(x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(normal_sf(x), sps.norm.sf(x), rtol=1e-12, atol=0)
    q = np.linspace(1e-12, 1 - 1e-12, 101)
    np.testing.assert_allclose(normal_ppf(q), sps.norm.ppf(q), rtol=1e-12)


def test_z_critical_is_the_normal_quantile_of_each_side() -> None:
    assert z_critical(0.05) == pytest.approx(1.959963984540054, abs=1e-12)
    assert z_critical(0.05, sides=1) == pytest.approx(sps.norm.isf(0.05), abs=1e-12)
    with pytest.raises(InputError, match="alpha"):
        z_critical(1.5)
    with pytest.raises(InputError, match="sides"):
        z_critical(0.05, sides=3)


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
