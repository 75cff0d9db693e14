"""The small normal/χ² helpers equal scipy's distributions, and reject bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from shipit.errors import InputError
from shipit.stats.heterogeneity import cochran_q
from shipit.stats.normal import (
    chi2_sf,
    contingency_p_value,
    normal_cdf,
    normal_quantile,
    normal_sf,
    two_sided_p,
)


@settings(max_examples=50, deadline=None)
@given(st.floats(-30, 30))
def test_normal_tails_equal_scipy(z: float) -> None:
    assert normal_cdf(z) == pytest.approx(sps.norm.cdf(z), rel=1e-12, abs=1e-300)
    assert normal_sf(z) == pytest.approx(sps.norm.sf(z), rel=1e-12, abs=1e-300)
    assert two_sided_p(z) == pytest.approx(2 * sps.norm.sf(abs(z)), rel=1e-12, abs=1e-300)


@settings(max_examples=50, deadline=None)
@given(st.floats(1e-12, 1 - 1e-12))
def test_normal_quantile_equals_scipy(q: float) -> None:
    assert normal_quantile(q) == pytest.approx(sps.norm.ppf(q), rel=1e-12, abs=1e-12)


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


def test_bad_inputs_are_named() -> None:
    with pytest.raises(InputError, match="probability"):
        normal_quantile(1.0)
    with pytest.raises(InputError, match="contingency"):
        contingency_p_value([1, 2, 3])
    with pytest.raises(InputError, match="standard errors"):
        cochran_q([0.1, 0.2], [0.1])
