"""Allocation policies: pure functions from per-variant statistics to allocation weights.

Every function takes arrays whose last axis is the variant (arm) axis and any leading axes
(for example simulation runs), and returns weights of the same shape that sum to 1 over the
last axis. Randomness comes only from an explicit seed or generator, so a weight vector can
be recomputed exactly from the logged state.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray
from shipit.errors import InputError
from shipit.stats.beta_binomial import prob_greater
from shipit.stats.normal import normal_cdf

__all__ = [
    "PolicyKind",
    "Seed",
    "apply_floor",
    "beta_prob_best",
    "epsilon_greedy",
    "normal_prob_best",
    "thompson_beta",
    "thompson_gaussian",
    "top_two",
    "ucb1",
]

PolicyKind: TypeAlias = Literal[
    "thompson", "gaussian_thompson", "top_two", "ucb", "egreedy", "fixed"
]
Seed: TypeAlias = int | np.random.Generator | None


def _rng(seed: Seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _as_float(x: npt.ArrayLike, name: str, *, infinite: bool = False) -> FloatArray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0 or a.shape[-1] < 1:
        raise InputError(
            f"{name} needs a last axis with one entry per variant, got shape {a.shape}"
        )
    if np.any(np.isnan(a)) or (not infinite and not np.all(np.isfinite(a))):
        raise InputError(f"{name} has {'NaN' if infinite else 'non-finite'} values")
    return a


def _argmax_share(score: FloatArray) -> FloatArray:
    """Weights splitting all traffic evenly among the variants with the top score."""
    top = score >= np.max(score, axis=-1, keepdims=True)
    return np.asarray(top / np.sum(top, axis=-1, keepdims=True), dtype=np.float64)


def _mc_prob_best(draws: FloatArray) -> FloatArray:
    """Share of Monte Carlo draws (axis 0) in which each variant has the largest value."""
    k = draws.shape[-1]
    winners = np.argmax(draws, axis=-1)
    counts = (winners[..., None] == np.arange(k)).sum(axis=0)
    return np.asarray(counts / draws.shape[0], dtype=np.float64)


def beta_prob_best(
    alpha: npt.ArrayLike, beta: npt.ArrayLike, *, draws: int = 10_000, seed: Seed = 0
) -> FloatArray:
    """P(variant has the highest rate) under independent Beta(alpha, beta) posteriors.

    Exact (Gauss–Legendre quadrature of ∫ f₁ F₀) for two variants; seeded Monte Carlo with
    ``draws`` draws otherwise.
    """
    a, b = _as_float(alpha, "alpha"), _as_float(beta, "beta")
    a, b = np.broadcast_arrays(a, b)
    if np.any(a <= 0) or np.any(b <= 0):
        raise InputError("Beta parameters must be positive")
    if a.shape[-1] == 1:
        return np.ones_like(a)
    if a.shape[-1] == 2:
        p1 = prob_greater(a[..., 1], b[..., 1], a[..., 0], b[..., 0])
        return np.stack([1.0 - p1, p1], axis=-1)
    rng = _rng(seed)
    sample = rng.beta(a, b, size=(draws, *a.shape))
    return _mc_prob_best(sample)


def normal_prob_best(
    mean: npt.ArrayLike, sd: npt.ArrayLike, *, draws: int = 10_000, seed: Seed = 0
) -> FloatArray:
    """P(variant has the highest value) under independent Normal(mean, sd) posteriors.

    Exact (normal CDF of the difference) for two variants; seeded Monte Carlo otherwise.
    """
    m, s = np.broadcast_arrays(_as_float(mean, "mean"), _as_float(sd, "sd"))
    if np.any(s < 0):
        raise InputError("posterior standard deviations must be non-negative")
    if m.shape[-1] == 1:
        return np.ones_like(m)
    if m.shape[-1] == 2:
        scale = np.hypot(s[..., 0], s[..., 1])
        diff = m[..., 1] - m[..., 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            p1 = np.where(scale > 0, normal_cdf(diff / scale), 0.5 + 0.5 * np.sign(diff))
        return np.stack([1.0 - p1, p1], axis=-1)
    rng = _rng(seed)
    sample = m + s * rng.standard_normal(size=(draws, *m.shape))
    return _mc_prob_best(sample)


def thompson_beta(
    successes: npt.ArrayLike,
    trials: npt.ArrayLike,
    *,
    prior_alpha: float | npt.ArrayLike = 1.0,
    prior_beta: float | npt.ArrayLike = 1.0,
    draws: int = 10_000,
    seed: Seed = 0,
) -> FloatArray:
    """Thompson sampling weights for conversions: P(best) under Beta-Bernoulli posteriors."""
    s, n = _as_float(successes, "successes"), _as_float(trials, "trials")
    if np.any(s < 0) or np.any(s > n):
        raise InputError("successes must lie between 0 and the number of trials")
    return beta_prob_best(
        np.asarray(prior_alpha) + s, np.asarray(prior_beta) + n - s, draws=draws, seed=seed
    )


def thompson_gaussian(
    n: npt.ArrayLike,
    mean: npt.ArrayLike,
    variance: npt.ArrayLike,
    *,
    prior_mean: float = 0.0,
    prior_variance: float = 1e6,
    draws: int = 10_000,
    seed: Seed = 0,
) -> FloatArray:
    """Thompson sampling weights for continuous rewards: normal posterior of each mean.

    The per-unit variance is plugged in from the data (known-variance conjugate update), so
    the posterior of a mean is Normal with precision 1/prior_variance + n/variance.
    """
    n_, m_, v_ = _as_float(n, "n"), _as_float(mean, "mean"), _as_float(variance, "variance")
    if prior_variance <= 0:
        raise InputError("prior_variance must be positive")
    m_ = np.where(n_ > 0, m_, 0.0)
    v_ = np.where(n_ > 1, np.maximum(v_, 1e-12), 1.0)
    precision = 1.0 / prior_variance + n_ / v_
    post_mean = (prior_mean / prior_variance + n_ * m_ / v_) / precision
    return normal_prob_best(post_mean, 1.0 / np.sqrt(precision), draws=draws, seed=seed)


def top_two(prob_best: npt.ArrayLike, *, beta: float = 0.5) -> FloatArray:
    """Top-two Thompson sampling weights from the P(best) vector (Russo, 2016).

    With probability ``beta`` the Thompson leader is served, otherwise Thompson is re-drawn
    until another variant leads: ψᵢ = pᵢ (β + (1 − β) Σ_{j≠i} pⱼ / (1 − pⱼ)).
    """
    p = _as_float(prob_best, "prob_best")
    if not 0.0 < beta < 1.0:
        raise InputError(f"beta must lie in (0, 1), got {beta}")
    if p.shape[-1] == 1:
        return np.ones_like(p)
    q = np.clip(p, 0.0, 1.0 - 1e-12)
    ratio = q / (1.0 - q)
    psi = q * (beta + (1.0 - beta) * (np.sum(ratio, axis=-1, keepdims=True) - ratio))
    return np.asarray(psi / np.sum(psi, axis=-1, keepdims=True), dtype=np.float64)


def ucb1(n: npt.ArrayLike, mean: npt.ArrayLike, *, scale: float = 1.0) -> FloatArray:
    """UCB1 weights: all traffic to the variant with the largest upper bound (ties split).

    The bound is mean + scale·√(2 ln t / n); variants never served come first.
    """
    n_, m_ = _as_float(n, "n"), _as_float(mean, "mean")
    t = np.maximum(np.sum(n_, axis=-1, keepdims=True), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        bonus = scale * np.sqrt(2.0 * np.log(t) / n_)
    score = np.where(n_ > 0, np.where(n_ > 0, m_, 0.0) + bonus, np.inf)
    return _argmax_share(score)


def epsilon_greedy(mean: npt.ArrayLike, *, epsilon: float = 0.1) -> FloatArray:
    """Epsilon-greedy weights: ε spread evenly, 1 − ε on the best observed mean.

    A variant with no data yet can be given mean +inf so that it is tried first.
    """
    m_ = _as_float(mean, "mean", infinite=True)
    if not 0.0 <= epsilon <= 1.0:
        raise InputError(f"epsilon must lie in [0, 1], got {epsilon}")
    k = m_.shape[-1]
    return np.asarray(epsilon / k + (1.0 - epsilon) * _argmax_share(m_))


def apply_floor(weights: npt.ArrayLike, min_share: float) -> FloatArray:
    """Mix weights with the uniform split so that every variant gets at least ``min_share``."""
    w = _as_float(weights, "weights")
    k = w.shape[-1]
    if not 0.0 <= min_share <= 1.0 / k:
        raise InputError(f"min_share must lie in [0, 1/{k}] for {k} variants, got {min_share}")
    w = w / np.sum(w, axis=-1, keepdims=True)
    return np.asarray(min_share + (1.0 - k * min_share) * w, dtype=np.float64)
