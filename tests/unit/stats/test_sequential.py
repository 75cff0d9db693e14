"""Always-valid inference: the mixture ratio by numerical integration, the sequence as its
inversion, the horizon tuning as a width minimizer, and validity by seeded simulation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, optimize
from scipy import stats as sps

from shipit.errors import InputError
from shipit.stats.estimands import relative_effect, summarize
from shipit.stats.moments import Moments
from shipit.stats.sequential import (
    AlwaysValid,
    asymptotic_cs,
    horizon_tau2,
    mixture_ratio,
    msprt,
    running,
)


@pytest.mark.parametrize(("theta", "se", "tau2"), [(0.3, 0.2, 0.05), (-1.0, 0.5, 1.0), (0.0, 1, 4)])
def test_mixture_ratio_matches_numerical_integration(theta: float, se: float, tau2: float) -> None:
    numerator, _ = integrate.quad(
        lambda t: sps.norm.pdf(theta, t, se) * sps.norm.pdf(t, 0.0, np.sqrt(tau2)), -50, 50
    )
    expected = numerator / sps.norm.pdf(theta, 0.0, se)
    assert float(mixture_ratio(theta, se, tau2)) == pytest.approx(expected, rel=1e-7)


@given(
    theta=st.floats(-5, 5),
    se=st.floats(0.01, 3),
    tau2=st.floats(1e-3, 10),
    alpha=st.floats(0.001, 0.3),
)
def test_sequence_is_the_inversion_of_the_test(
    theta: float, se: float, tau2: float, alpha: float
) -> None:
    r = msprt(theta, se, tau2=tau2, alpha=alpha)
    for bound in (float(r.ci_low), float(r.ci_high)):
        assert float(mixture_ratio(theta, se, tau2, null=bound)) == pytest.approx(1 / alpha)
    inside = float(r.p_value) > alpha
    assert inside == (float(r.ci_low) < 0 < float(r.ci_high))


def test_horizon_tau2_nearly_minimizes_the_width_at_the_horizon() -> None:
    se_now, n_now, horizon, alpha = 0.1, 1000.0, 25_000.0, 0.05
    v_h = se_now**2 * n_now / horizon

    def width(tau2: float) -> float:
        return float(msprt(0.0, np.sqrt(v_h), tau2=tau2, alpha=alpha).ci_high)

    best = optimize.minimize_scalar(lambda lt: width(np.exp(lt)), bounds=(-20, 5), method="bounded")
    tau2 = float(horizon_tau2(se_now, n_now, horizon, alpha=alpha))
    assert width(tau2) <= best.fun * 1.01
    assert tau2 == pytest.approx(v_h * (-2 * np.log(alpha) + np.log(1 - 2 * np.log(alpha))))


def test_asymptotic_cs_is_the_normal_mixture_at_tau2_sigma2_rho2() -> None:
    est, se, n, big_n = np.array([0.1, -0.2]), np.array([0.05, 0.08]), np.array([400.0, 900]), 2e3
    a = asymptotic_cs(est, se, n, expected_n=big_n)
    rho2 = (-2 * np.log(0.05) + np.log(1 - 2 * np.log(0.05))) / big_n
    m = msprt(est, se, tau2=se**2 * n * rho2)
    np.testing.assert_allclose(a.ci_low, m.ci_low)
    np.testing.assert_allclose(a.ci_high, m.ci_high)
    np.testing.assert_allclose(a.p_value, m.p_value)


def _gaussian_paths(
    experiments: int, looks: int, theta: float, seed: int
) -> tuple[np.ndarray, ...]:
    """Cumulative means of unit-variance observations, batch of 10 per look."""
    rng = np.random.default_rng(seed)
    n = 10.0 * np.arange(1, looks + 1)
    sums = np.cumsum(rng.normal(10 * theta, np.sqrt(10), size=(experiments, looks)), axis=1)
    return sums / n, 1 / np.sqrt(n) * np.ones((experiments, 1)), n


def test_msprt_false_positive_rate_under_continuous_monitoring() -> None:
    est, se, n = _gaussian_paths(10_000, 200, 0.0, seed=1)
    p = msprt(est, se, tau2=float(horizon_tau2(se[0, -1], n[-1], n[-1]))).p_value
    fpr = (p <= 0.05).any(axis=1).mean()
    naive = (np.abs(est / se) >= 1.96).any(axis=1).mean()
    assert fpr <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 10_000)
    assert naive >= 4 * 0.05


@pytest.mark.parametrize("method", ["msprt", "asymptotic"])
def test_sequences_cover_uniformly_over_time(method: str) -> None:
    theta = 0.15
    est, se, n = _gaussian_paths(10_000, 100, theta, seed=2)
    if method == "msprt":
        r = msprt(est, se, tau2=float(horizon_tau2(se[0, -1], n[-1], n[-1])), null=theta)
    else:
        r = asymptotic_cs(est, se, n, expected_n=n[-1], null=theta)
    cover = ((r.ci_low <= theta) & (theta <= r.ci_high)).all(axis=1).mean()
    assert cover >= 0.95 - 3 * np.sqrt(0.05 * 0.95 / 10_000)


def _proportion_moments(conversions: np.ndarray, n: np.ndarray) -> Moments:
    """Moments of 0/1 outcomes (Σy² = Σy), one group per element."""
    k = conversions.ravel().astype(float)
    labels = [f"r{i}" for i in range(k.size)]
    return Moments.from_sums(labels, ["y"], n.ravel(), k[:, None], k[:, None, None])


def test_relative_sequence_covers_on_proportions_from_moments() -> None:
    rng = np.random.default_rng(5)
    experiments, looks, batch, pc, pt = 4000, 50, 400, 0.2, 0.22
    draws = rng.binomial(batch, [pc, pt], size=(experiments, looks, 2))
    conv = np.cumsum(draws, axis=1)
    n = batch * np.arange(1, looks + 1) * np.ones((experiments, 1))
    control = summarize(_proportion_moments(conv[..., 0], n), "proportion")
    variant = summarize(_proportion_moments(conv[..., 1], n), "proportion")
    eff = relative_effect(control, variant)
    est, se = eff.estimate.reshape(n.shape), eff.se.reshape(n.shape)
    truth = pt / pc - 1
    tau2 = horizon_tau2(se[:, -1].mean(), n[0, -1], n[0, -1])
    r = msprt(est, se, tau2=tau2)
    cover = ((r.ci_low <= truth) & (truth <= r.ci_high)).all(axis=1).mean()
    assert cover >= 0.95 - 3 * np.sqrt(0.05 * 0.95 / experiments)


@given(st.lists(st.tuples(st.floats(-3, 3), st.floats(0.05, 2)), min_size=1, max_size=30))
def test_running_values_are_monotone_and_nested(looks: list[tuple[float, float]]) -> None:
    est = np.array([x for x, _ in looks])[:, None]
    se = np.array([s for _, s in looks])[:, None]
    r = running(msprt(est, se, tau2=0.5))
    assert np.all(np.diff(r.p_value[:, 0]) <= 0)
    assert np.all(np.diff(r.ci_low[:, 0]) >= 0)
    assert np.all(np.diff(r.ci_high[:, 0]) <= 0)


def test_degenerate_rows_are_nan_not_errors() -> None:
    r = msprt([0.1, 0.2], [0.0, 0.1], tau2=0.01)
    assert np.isnan(r.p_value[0])
    assert np.isnan(r.ci_low[0])
    assert np.isfinite(r.p_value[1])
    a = asymptotic_cs([0.1], [0.1], [0.0], expected_n=100)
    assert np.isnan(a.p_value[0])
    assert isinstance(running(r), AlwaysValid)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: msprt(0.1, 0.1, tau2=0.0), "tau2"),
        (lambda: msprt(0.1, 0.1, tau2=1.0, alpha=1.0), "alpha"),
        (lambda: horizon_tau2(0.1, 10, 0), "horizon"),
        (lambda: asymptotic_cs(0.1, 0.1, 10, expected_n=-1), "expected_n"),
    ],
)
def test_bad_arguments_are_named(call: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        call()  # type: ignore[operator]
