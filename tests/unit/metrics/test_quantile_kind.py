"""The quantile kind without an engine: its comparison against scipy, degenerate groups, the
interval's numerics against closed forms, and the spec's checks of its fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import stats as sps

from shipit.errors import SpecError
from shipit.metrics.kinds.quantile import (
    QuantileSummary,
    bound_probabilities,
    compare_quantiles,
    ratio_sigma,
)
from shipit.metrics.summary import GroupKey
from shipit.spec.io import load_metrics
from shipit.spec.metric import MetricDef

Z95 = float(sps.norm.ppf(0.975))


def _summary(estimate: list[float], low: list[float], high: list[float], n_obs: float = 50) -> Any:
    k = len(estimate)
    return QuantileSummary(
        q=0.9,
        groups=tuple(GroupKey(f"v{i}") for i in range(k)),
        n=np.full(k, 40.0),
        n_obs=np.full(k, n_obs),
        estimate=np.array(estimate),
        sigma=np.full(k, 0.01),
        ci_low=np.array(low),
        ci_high=np.array(high),
    )


def test_comparison_is_the_normal_difference_of_two_quantiles() -> None:
    c = _summary([10.0, 4.0], [9.0, 3.0], [11.5, 5.0])
    v = _summary([12.0, 4.2], [10.0, 3.9], [13.0, 4.6])
    r = compare_quantiles(c, v)
    se_c = (c.ci_high - c.ci_low) / (2 * Z95)
    se_v = (v.ci_high - v.ci_low) / (2 * Z95)
    diff = v.estimate - c.estimate
    se = np.hypot(se_c, se_v)
    np.testing.assert_allclose(r.abs_effect, diff, rtol=1e-12)
    np.testing.assert_allclose(r.abs_se, se, rtol=1e-12)
    np.testing.assert_allclose(r.abs_ci_low, diff - Z95 * se, rtol=1e-9)
    np.testing.assert_allclose(r.p_value, 2 * sps.norm.sf(np.abs(diff / se)), rtol=1e-9)
    rel = v.estimate / c.estimate - 1
    rel_se = np.sqrt(se_v**2 / c.estimate**2 + v.estimate**2 * se_c**2 / c.estimate**4)
    np.testing.assert_allclose(r.rel_effect, rel, rtol=1e-12)
    np.testing.assert_allclose(r.rel_se, rel_se, rtol=1e-9)
    assert list(r.status) == ["ok", "ok"]


def test_one_sided_comparison_uses_the_one_sided_p_value() -> None:
    c, v = _summary([10.0], [9.0], [11.0]), _summary([9.0], [8.5], [9.5])
    r = compare_quantiles(c, v, alternative="less")
    z = (9.0 - 10.0) / float(r.abs_se[0])
    assert r.p_value[0] == pytest.approx(sps.norm.cdf(z), rel=1e-9)


def test_groups_without_observations_are_too_few_not_numbers() -> None:
    c = _summary([np.nan], [np.nan], [np.nan], n_obs=0)
    v = _summary([3.0], [2.0], [4.0])
    r = compare_quantiles(c, v)
    assert r.status[0] == "too_few_units"
    assert np.isnan(r.p_value[0])
    assert np.isnan(r.abs_ci_low[0])
    assert np.isnan(r.rel_se[0])


def test_bounds_of_equal_order_statistics_have_no_variance() -> None:
    c, v = _summary([0.0], [0.0], [0.0]), _summary([0.0], [0.0], [0.0])
    r = compare_quantiles(c, v)
    assert r.status[0] == "zero_variance"
    assert np.isnan(r.p_value[0])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.05, 0.95), min_size=1, max_size=5),
    st.integers(2, 400),
)
def test_sigma_of_one_observation_per_unit_is_binomial(shares: list[float], n: int) -> None:
    """N_i = 1: Var(ΣS/n) is the binomial p(1 − p)/n (with n − 1 in the sample variance)."""
    s = np.round(np.array(shares) * n)
    n_arr = np.full(len(s), float(n))
    sigma = ratio_sigma(n_arr, s, n_arr, s, s, n_arr)
    p = s / n
    np.testing.assert_allclose(sigma**2, p * (1 - p) / (n - 1), rtol=1e-9, atol=1e-15)


def test_sigma_of_clustered_units_is_the_ratio_delta_method() -> None:
    rng = np.random.default_rng(3)
    c = rng.integers(1, 8, 300).astype(float)
    s = rng.binomial(c.astype(int), 0.8).astype(float)
    sigma = ratio_sigma(
        *(np.array([v]) for v in (300.0, s.sum(), c.sum())),
        *(np.array([v]) for v in ((s * s).sum(), (s * c).sum(), (c * c).sum())),
    )
    r = s.sum() / c.sum()
    want = np.sqrt(np.var(s - r * c, ddof=1) / 300 / c.mean() ** 2)
    assert sigma[0] == pytest.approx(want, rel=1e-9)


def test_bound_probabilities_stay_in_the_unit_interval() -> None:
    lo, hi = bound_probabilities(0.99, np.array([0.001, 0.1, np.nan]))
    np.testing.assert_allclose(lo[:2], [0.99 - Z95 * 0.001, 0.99 - Z95 * 0.1], rtol=1e-12)
    np.testing.assert_allclose(hi[:2], [0.99 + Z95 * 0.001, 1.0], rtol=1e-12)
    assert np.isnan(lo[2])
    assert np.isnan(hi[2])


def test_quantile_fields_make_a_quantile_metric() -> None:
    m = MetricDef(name="lat", event="page_load", value="ms", quantile=0.95)
    assert m.kind == "quantile"
    assert m.quantile_of == "events"
    assert MetricDef(name="s", event="buy", quantile=0.5, quantile_of="units").kind == "quantile"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantile": 0.0}, "greater than 0"),
        ({"quantile": 1.0}, "less than 1"),
        ({"quantile_of": "units"}, "quantile_of needs quantile"),
        ({"quantile": 0.9, "quantile_of": "sessions"}, "'events' or 'units'"),
        ({"quantile": 0.9, "winsorize": 0.99}, "cannot be winsorized"),
        ({"quantile": 0.9, "aggregation": "max"}, "aggregation applies to quantile_of: units"),
        ({"quantile": 0.9, "covariates": [{"name": "pre", "event": "e"}]}, "CUPED does not"),
    ],
)
def test_bad_quantile_fields_are_named(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MetricDef(name="m", event="e", **fields)


def test_quantile_of_a_ratio_is_refused() -> None:
    with pytest.raises(ValidationError, match="takes an event"):
        MetricDef(name="m", numerator={"event": "a"}, denominator={"event": "b"}, quantile=0.5)


def test_metrics_file_error_names_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "metrics.yaml"
    path.write_text("metrics:\n  - name: lat\n    event: page_load\n    quantile: 95\n")
    with pytest.raises(SpecError, match=r"metrics.yaml:4: metrics\[0\]\.quantile"):
        load_metrics(path)
