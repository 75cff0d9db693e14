"""Normal model against numerical posteriors, calibration by simulation, P(best), ship rule."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

from shipit.errors import InputError
from shipit.stats.bayesian import (
    DecisionReason,
    NormalPrior,
    compare_normal,
    decide,
    normal_posterior,
    prob_best_beta,
    prob_best_normal,
)
from shipit.stats.beta_binomial import prob_greater
from shipit.stats.estimands import GroupStats, summarize
from shipit.stats.moments import Moments


def _stats(n: float, mean: float, sd: float) -> GroupStats:
    a = np.array([n], dtype=float)
    v = np.array([sd**2])
    return GroupStats(a, np.array([mean]), v, v / a)


def _grid_posterior(est: float, se: float, m0: float, s0: float) -> tuple[float, float]:
    """Posterior mean and sd by brute-force integration of prior × likelihood."""
    lo, hi = est - 12 * se, est + 12 * se
    dens = lambda d: sps.norm.pdf(d, m0, s0) * sps.norm.pdf(est, d, se)  # noqa: E731
    z = integrate.quad(dens, lo, hi, epsabs=0, epsrel=1e-12)[0]
    mean = integrate.quad(lambda d: d * dens(d), lo, hi, epsabs=0, epsrel=1e-12)[0] / z
    var = integrate.quad(lambda d: (d - mean) ** 2 * dens(d), lo, hi, epsrel=1e-12)[0] / z
    return mean, float(np.sqrt(var))


def test_flat_prior_posterior_is_the_estimate_and_losses_integrate() -> None:
    c, v = _stats(1000, 10.0, 3.0), _stats(1200, 10.2, 3.1)
    res = compare_normal(c, v, scale="absolute")
    se = np.sqrt(9.0 / 1000 + 3.1**2 / 1200)
    assert res.post_mean[0] == pytest.approx(0.2)
    assert res.post_sd[0] == pytest.approx(se)
    assert res.prob_better[0] == pytest.approx(sps.norm.cdf(0.2 / se), abs=1e-12)
    post = sps.norm(0.2, se)
    loss_v = integrate.quad(lambda d: -d * post.pdf(d), -np.inf, 0, epsabs=1e-14)[0]
    loss_c = integrate.quad(lambda d: d * post.pdf(d), 0, np.inf, epsabs=1e-14)[0]
    assert res.expected_loss_variant[0] == pytest.approx(loss_v, abs=1e-12)
    assert res.expected_loss_control[0] == pytest.approx(loss_c, abs=1e-12)
    lo, hi = post.ppf([0.025, 0.975])
    assert (res.cred_low[0], res.cred_high[0]) == pytest.approx((lo, hi), abs=1e-12)


def test_informative_prior_matches_numerical_posterior() -> None:
    c, v = _stats(400, 2.0, 1.0), _stats(400, 2.1, 1.2)
    prior = NormalPrior(mean=0.0, sd=0.05, scale="relative")
    res = compare_normal(c, v, prior=prior)
    rel_se = np.sqrt(1.2**2 / 400 / 4.0 + 2.1**2 * (1.0 / 400) / 16.0)
    mean, sd = _grid_posterior(0.05, rel_se, 0.0, 0.05)
    assert res.post_mean[0] == pytest.approx(mean, rel=1e-9)
    assert res.post_sd[0] == pytest.approx(sd, rel=1e-8)
    # the same prior given on the absolute scale, converted with the control mean
    absolute = compare_normal(c, v, prior=NormalPrior(0.0, 0.1, "absolute"), scale="relative")
    np.testing.assert_allclose(absolute.post_mean, res.post_mean, rtol=1e-12)


def test_lower_is_better_swaps_the_sides() -> None:
    c, v = _stats(1000, 10.0, 3.0), _stats(1000, 10.3, 3.0)
    up = compare_normal(c, v, scale="absolute")
    down = compare_normal(c, v, scale="absolute", higher_is_better=False)
    assert down.prob_better[0] == pytest.approx(1.0 - up.prob_better[0])
    assert down.expected_loss_variant[0] == pytest.approx(up.expected_loss_control[0])


def test_credible_interval_is_calibrated_when_effects_come_from_the_prior() -> None:
    rng = np.random.default_rng(2024)
    runs, n, sigma = 24_000, 400, 2.0
    prior = NormalPrior(mean=0.1, sd=0.15, scale="absolute")
    truth = rng.normal(prior.mean, prior.sd, runs)
    base = rng.uniform(5.0, 10.0, runs)
    parts = []
    for mu in (base, base + truth):
        # exact sufficient statistics of n normal units: Σy, and Σy² = Σ(y − ȳ)² + (Σy)²/n
        s = rng.normal(n * mu, np.sqrt(n) * sigma)
        ss = sigma**2 * rng.chisquare(n - 1, runs) + s**2 / n
        parts.append((s, ss))
    labels = [f"r{i}" for i in range(runs)]
    ctrl = Moments.from_sums(labels, ["y"], np.full(runs, n), parts[0][0], parts[0][1])
    var = Moments.from_sums(labels, ["y"], np.full(runs, n), parts[1][0], parts[1][1])
    res = compare_normal(summarize(ctrl, "mean"), summarize(var, "mean"), prior=prior)
    covered = (res.cred_low <= truth) & (truth <= res.cred_high)
    assert covered.mean() == pytest.approx(0.95, abs=0.01)
    # and P(better) is calibrated too: among rows with P ≈ p, a share p is truly better
    p = res.prob_better
    assert np.mean(truth > 0) == pytest.approx(p.mean(), abs=0.01)


def test_normal_posterior_rejects_nothing_and_flat_prior_keeps_estimate() -> None:
    mu, sd = normal_posterior([1.0, 2.0], [0.5, 0.25])
    np.testing.assert_allclose(mu, [1.0, 2.0])
    np.testing.assert_allclose(sd, [0.5, 0.25])
    with pytest.raises(InputError, match="sd"):
        NormalPrior(sd=0.0)
    with pytest.raises(InputError, match="scale"):
        NormalPrior(scale="log")  # type: ignore[arg-type]


def test_prob_best_with_two_variants_matches_closed_forms() -> None:
    rows = 50
    rng = np.random.default_rng(9)
    mu = rng.normal(0.0, 0.1, (rows, 2))
    sd = rng.uniform(0.05, 0.1, (rows, 2))
    best, loss = prob_best_normal(mu, sd, draws=20_000, seed=1)
    exact = sps.norm.cdf((mu[:, 1] - mu[:, 0]) / np.hypot(sd[:, 0], sd[:, 1]))
    np.testing.assert_allclose(best[:, 1], exact, atol=5 * np.sqrt(0.25 / 20_000))
    np.testing.assert_allclose(best.sum(axis=1), 1.0)
    assert np.all(loss >= 0)
    again, _ = prob_best_normal(mu, sd, draws=20_000, seed=1)
    np.testing.assert_array_equal(best, again)

    a = np.array([[31.0, 41.0], [300.0, 330.0]])
    b = np.array([[971.0, 961.0], [9700.0, 9670.0]])
    best_b, _ = prob_best_beta(a, b, draws=50_000, seed=3)
    exact_b = prob_greater(a[:, 1], b[:, 1], a[:, 0], b[:, 0])
    np.testing.assert_allclose(best_b[:, 1], exact_b, atol=5 * np.sqrt(0.25 / 50_000))


def test_prob_best_three_variants_and_expected_loss_vs_best() -> None:
    mu = np.array([[0.0, 0.1, 0.3]])
    sd = np.array([[0.1, 0.1, 0.1]])
    best, loss = prob_best_normal(mu, sd, draws=200_000, seed=4)
    rng = np.random.default_rng(0)
    x = mu[0] + sd[0] * rng.standard_normal((400_000, 3))
    ref_best = np.bincount(np.argmax(x, axis=1), minlength=3) / x.shape[0]
    ref_loss = np.mean(x.max(axis=1, keepdims=True) - x, axis=0)
    np.testing.assert_allclose(best[0], ref_best, atol=0.005)
    np.testing.assert_allclose(loss[0], ref_loss, atol=0.002)
    low, _ = prob_best_normal(mu, sd, draws=200_000, seed=4, higher_is_better=False)
    assert np.argmax(low[0]) == 0


def test_decide_reports_which_condition_failed() -> None:
    d = decide([0.99, 0.90, 0.99, 0.5, np.nan], [0.0001, 0.0001, 0.01, 0.01, 0.0])
    assert d.reason.tolist() == [
        DecisionReason.SHIP,
        DecisionReason.PROB_TOO_LOW,
        DecisionReason.LOSS_TOO_HIGH,
        DecisionReason.BOTH,
        DecisionReason.NO_ESTIMATE,
    ]
    assert d.ship.tolist() == [True, False, False, False, False]
    loose = decide([0.90], [0.01], threshold=0.8, tolerance=0.02)
    assert loose.ship.tolist() == [True]
    with pytest.raises(InputError, match="threshold"):
        decide([0.5], [0.0], threshold=1.0)
    with pytest.raises(InputError, match="tolerance"):
        decide([0.5], [0.0], tolerance=-1.0)


def test_prob_best_keeps_precision_for_large_means_and_mixed_spreads() -> None:
    # large means with small spreads: the float32 draws must not lose the differences
    mu = np.array([[1000.0, 1000.02], [5e6, 5e6 - 3.0]])
    sd = np.array([[0.01, 0.03], [2.0, 4.0]])
    best, loss = prob_best_normal(mu, sd, draws=200_000, seed=2)
    s = np.hypot(sd[:, 0], sd[:, 1])
    m = mu[:, 1] - mu[:, 0]
    np.testing.assert_allclose(best[:, 1], sps.norm.cdf(m / s), atol=0.005)
    # E[max(X1 − X2, 0)] is the loss of variant 2 against the best of two
    ref = s * sps.norm.pdf(m / s) - m * sps.norm.cdf(-m / s)
    np.testing.assert_allclose(loss[:, 1], ref, rtol=0.02)


def test_prob_best_is_undecided_for_rows_without_a_finite_posterior() -> None:
    mu = np.array([[0.0, 0.1, 0.2], [0.0, np.nan, 0.1]])
    sd = np.array([[0.1, 0.1, 0.1], [0.1, 0.1, 0.1]])
    best, loss = prob_best_normal(mu, sd, draws=1_000, seed=1)
    assert best[0].sum() == pytest.approx(1.0)
    assert np.all(np.isnan(best[1]))
    assert np.all(np.isnan(loss[1]))
