"""Contextual policies over a feature vector: linear Thompson sampling and LinUCB.

Each variant has a ridge-regression posterior of reward on [1, x]. Its sufficient
statistics are exactly what ``Moments`` of z = [1, reward, x1..xk] per variant hold, so a
batched update is a sum of moments and no unit-level history is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray
from shipit.bandits.policies import Seed, _argmax_share, _rng, normal_prob_best
from shipit.errors import InputError
from shipit.stats.moments import Moments

__all__ = ["LinearStats", "linear_thompson", "linucb"]


class LinearStats:
    """Per-variant Gram matrices Σ[1,x][1,x]ᵀ (K, d, d) and Σ reward·[1,x] (K, d)."""

    def __init__(self, gram: npt.ArrayLike, xy: npt.ArrayLike) -> None:
        self.gram = np.asarray(gram, dtype=np.float64)
        self.xy = np.asarray(xy, dtype=np.float64)
        k, d = self.xy.shape[0], self.xy.shape[-1]
        if self.xy.ndim != 2 or self.gram.shape != (k, d, d):
            raise InputError(
                f"gram has shape {self.gram.shape} and xy {self.xy.shape}; expected (K, d, d) "
                "and (K, d)"
            )

    @classmethod
    def from_moments(cls, moments: Moments, reward: str, features: Sequence[str]) -> LinearStats:
        """Read the ridge statistics off per-variant moments of [1, reward, features]."""
        cols = [0, *(moments.col(f) for f in features)]
        m = moments.matrix
        return cls(m[:, cols][:, :, cols], m[:, moments.col(reward), cols])

    @classmethod
    def empty(cls, variants: int, features: int) -> LinearStats:
        """No data yet: zero statistics for ``variants`` arms over ``features`` covariates."""
        d = features + 1
        return cls(np.zeros((variants, d, d)), np.zeros((variants, d)))

    def posterior(self, ridge: float = 1.0) -> tuple[FloatArray, FloatArray]:
        """Ridge estimate θ (K, d) and the inverse of the regularized Gram matrix (K, d, d)."""
        if ridge <= 0:
            raise InputError(f"ridge must be positive, got {ridge}")
        d = self.xy.shape[-1]
        a_inv = np.asarray(np.linalg.inv(self.gram + ridge * np.eye(d)), dtype=np.float64)
        theta = np.asarray(np.einsum("kij,kj->ki", a_inv, self.xy), dtype=np.float64)
        return theta, a_inv


def _design(contexts: npt.ArrayLike, d: int) -> FloatArray:
    x = np.asarray(contexts, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != d - 1:
        raise InputError(f"contexts must have shape (n, {d - 1}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise InputError("contexts have non-finite values")
    return np.column_stack([np.ones(len(x)), x])


def _scores(
    contexts: npt.ArrayLike, stats: LinearStats, ridge: float
) -> tuple[FloatArray, FloatArray]:
    """Predicted reward (n, K) and its unscaled posterior standard deviation (n, K)."""
    theta, a_inv = stats.posterior(ridge)
    x = _design(contexts, theta.shape[1])
    mean = x @ theta.T
    spread = np.sqrt(np.maximum(np.einsum("ni,kij,nj->nk", x, a_inv, x), 0.0))
    return mean, spread


def linucb(
    contexts: npt.ArrayLike, stats: LinearStats, *, alpha: float = 1.0, ridge: float = 1.0
) -> FloatArray:
    """LinUCB weights per context (n, K): all traffic to the largest θᵀx + α√(xᵀA⁻¹x)."""
    mean, spread = _scores(contexts, stats, ridge)
    return _argmax_share(mean + alpha * spread)


def linear_thompson(
    contexts: npt.ArrayLike,
    stats: LinearStats,
    *,
    scale: float = 1.0,
    ridge: float = 1.0,
    draws: int = 10_000,
    seed: Seed = 0,
) -> FloatArray:
    """Linear Thompson sampling weights per context (n, K).

    For a given context the sampled scores θ̃ₖᵀx are independent normals across variants,
    so the serving probability of each variant is its P(best) under those normals.
    """
    if scale <= 0:
        raise InputError(f"scale must be positive, got {scale}")
    mean, spread = _scores(contexts, stats, ridge)
    return normal_prob_best(mean, scale * spread, draws=draws, seed=_rng(seed))
