"""SRM: Pearson χ² against scipy.stats.chisquare, vectorized over count sets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from shipit.errors import InputError
from shipit.stats.srm import srm_test


def test_matches_scipy_chisquare_for_many_count_sets(rng: np.random.Generator) -> None:
    weights = np.array([0.5, 0.25, 0.25])
    counts = rng.multinomial(30_000, [0.5, 0.245, 0.255], size=300)
    res = srm_test(counts, weights)
    ref = sps.chisquare(counts, counts.sum(axis=1, keepdims=True) * weights, axis=1)
    np.testing.assert_allclose(res.chi2, ref.statistic, rtol=1e-9)
    np.testing.assert_allclose(res.p_value, ref.pvalue, rtol=1e-9)
    np.testing.assert_array_equal(res.mismatch, ref.pvalue < 0.001)
    assert res.df == 2


@settings(max_examples=80, deadline=None)
@given(
    counts=st.lists(st.integers(1, 10**6), min_size=2, max_size=6),
    data=st.data(),
)
def test_matches_scipy_hypothesis(counts: list[int], data: st.DataObject) -> None:
    w = data.draw(st.lists(st.floats(0.05, 1.0), min_size=len(counts), max_size=len(counts)))
    res = srm_test(counts, w)
    expected = np.array(w) / sum(w) * sum(counts)
    ref = sps.chisquare(counts, expected)
    np.testing.assert_allclose(res.chi2[0], ref.statistic, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.p_value[0], ref.pvalue, rtol=1e-9, atol=1e-300)


def test_threshold_decides_mismatch() -> None:
    # 50/50 plan, 10,000 vs 10,300: p ≈ 0.034, a mismatch at 0.05 but not at 0.001
    assert not srm_test([10_000, 10_300], [1, 1]).mismatch[0]
    assert srm_test([10_000, 10_300], [1, 1], threshold=0.05).mismatch[0]
    assert srm_test([10_000, 11_000], [1, 1]).mismatch[0]


def test_row_wise_weights_and_bad_input() -> None:
    res = srm_test([[100, 100], [150, 50]], [[0.5, 0.5], [0.75, 0.25]])
    np.testing.assert_allclose(res.chi2, [0.0, 0.0], atol=1e-12)
    with pytest.raises(InputError, match="weights"):
        srm_test([10, 10], [1, 0])
    with pytest.raises(InputError, match="2 weights for 3"):
        srm_test([10, 10, 10], [1, 1])
    with pytest.raises(InputError, match="counts"):
        srm_test([10, -1], [1, 1])
