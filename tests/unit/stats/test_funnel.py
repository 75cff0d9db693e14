"""Funnel step conversions against statsmodels' Wilson interval and plain ratios."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from shipit.errors import InputError
from shipit.stats.funnel import step_conversions, wilson_interval


def test_wilson_matches_statsmodels() -> None:
    k = np.array([0.0, 1.0, 17.0, 50.0, 99.0, 100.0])
    n = np.full(6, 100.0)
    lo, hi = wilson_interval(k, n, 0.1)
    want_lo, want_hi = proportion_confint(k, n, alpha=0.1, method="wilson")
    np.testing.assert_allclose(lo, want_lo, atol=1e-12)
    np.testing.assert_allclose(hi, want_hi, atol=1e-12)


def test_step_conversions() -> None:
    n = np.array([200.0, 0.0])
    reached = np.array([[120.0, 60.0, 15.0], [0.0, 0.0, 0.0]])
    s = step_conversions(n, reached, 0.05)
    np.testing.assert_allclose(s.rate[0], [0.6, 0.3, 0.075])
    np.testing.assert_allclose(s.conversion[0], [0.6, 0.5, 0.25])
    lo, hi = proportion_confint(15, 60, alpha=0.05, method="wilson")
    assert s.conversion_low[0, 2] == pytest.approx(lo, abs=1e-12)
    assert s.conversion_high[0, 2] == pytest.approx(hi, abs=1e-12)
    assert np.isnan(s.rate[1]).all()
    assert np.isnan(s.conversion_low[1]).all()


def test_steps_must_not_grow() -> None:
    with pytest.raises(InputError, match="cannot be reached by more units"):
        step_conversions(np.array([10.0]), np.array([[3.0, 4.0]]))
    with pytest.raises(InputError, match="alpha"):
        wilson_interval(np.array([1.0]), np.array([2.0]), 1.5)
