"""The scipy-free normal functions agree with scipy.stats.norm, small inputs and large."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from shipit.stats import _normal

XS = np.array([-37.0, -8.5, -3.0, -1.959964, -0.1, 0.0, 0.3, 1.644854, 5.0, 9.0, 37.0])
PS = np.array([1e-300, 1e-12, 1e-4, 0.025, 0.2, 0.5, 0.8, 0.975, 0.9999, 1 - 1e-12])


@pytest.mark.parametrize("size", [len(XS), 1000])
def test_cdf_and_sf_match_scipy_in_both_tails(size: int) -> None:
    x = np.resize(XS, size)
    np.testing.assert_allclose(_normal.cdf(x), sps.norm.cdf(x), rtol=1e-11, atol=0)
    np.testing.assert_allclose(_normal.sf(x), sps.norm.sf(x), rtol=1e-11, atol=0)


@pytest.mark.parametrize("size", [len(PS), 1000])
def test_ppf_and_isf_match_scipy(size: int) -> None:
    p = np.resize(PS, size)
    np.testing.assert_allclose(_normal.ppf(p), sps.norm.ppf(p), rtol=1e-12)
    np.testing.assert_allclose(_normal.isf(p), sps.norm.isf(p), rtol=1e-12)


def test_edges_follow_scipy() -> None:
    p = np.array([0.0, 1.0, -0.1, 1.1, np.nan])
    np.testing.assert_array_equal(_normal.ppf(p), sps.norm.ppf(p))
    np.testing.assert_array_equal(_normal.isf(p), sps.norm.isf(p))
    x = np.array([-np.inf, np.inf, np.nan])
    np.testing.assert_array_equal(_normal.cdf(x), sps.norm.cdf(x))


def test_scalars_stay_scalars_and_shapes_are_kept() -> None:
    assert np.ndim(_normal.ppf(0.975)) == 0
    assert float(_normal.ppf(0.975)) == pytest.approx(1.959963984540054, rel=1e-15)
    assert _normal.cdf(np.zeros((2, 3))).shape == (2, 3)


@given(st.floats(min_value=1e-250, max_value=1 - 1e-15))
def test_ppf_inverts_cdf(p: float) -> None:
    assert float(_normal.cdf(_normal.ppf(p))) == pytest.approx(p, rel=1e-9)
