"""Bayesian inference on effects: the Normal model, several variants, and the ship rule.

The Normal model treats the estimated effect (absolute or relative, raw or CUPED-adjusted)
as Gaussian around the true one, with a flat or a Gaussian prior on that effect, so the
posterior is closed form: precision-weighted mean, P(better) = Φ(μ/σ), expected loss
E[max(−Δ, 0)] = σφ(μ/σ) − μΦ(−μ/σ) (and the converse), and μ ± z·σ intervals. With more
than two variants, P(each is best) and the expected loss against the best come from a
seeded Monte Carlo of the closed-form posteriors, vectorized over rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special as sp

from shipit._types import BoolArray, FloatArray
from shipit.errors import InputError
from shipit.stats.estimands import Effect, GroupStats, absolute_effect, relative_effect

__all__ = [
    "BayesRule",
    "DecisionReason",
    "NormalComparison",
    "NormalPrior",
    "compare_normal",
    "decide",
    "normal_posterior",
    "prob_best",
    "prob_best_beta",
    "prob_best_normal",
]

Scale = Literal["absolute", "relative"]


@dataclass(frozen=True)
class NormalPrior:
    """A Gaussian prior on the effect; ``sd=inf`` (the default) is the flat prior."""

    mean: float = 0.0
    sd: float = float("inf")
    scale: Scale = "relative"

    def __post_init__(self) -> None:
        if not self.sd > 0:
            raise InputError(f"prior sd must be > 0 (inf for a flat prior), got {self.sd}")
        if not np.isfinite(self.mean):
            raise InputError(f"prior mean must be finite, got {self.mean}")
        if self.scale not in ("absolute", "relative"):
            raise InputError(f"prior scale must be 'absolute' or 'relative', got {self.scale!r}")

    @property
    def is_flat(self) -> bool:
        """Whether the prior carries no information."""
        return not np.isfinite(self.sd)


@dataclass(frozen=True)
class NormalComparison:
    """Posterior of the effect per row, on ``scale``, and what it implies.

    ``expected_loss_variant`` is E[max(−Δ, 0)] for higher-is-better metrics (the effect
    given up by shipping a worse variant), ``expected_loss_control`` E[max(Δ, 0)].
    """

    scale: Scale
    post_mean: FloatArray
    post_sd: FloatArray
    prob_better: FloatArray
    expected_loss_variant: FloatArray
    expected_loss_control: FloatArray
    cred_low: FloatArray
    cred_high: FloatArray


def normal_posterior(
    estimate: npt.ArrayLike,
    se: npt.ArrayLike,
    prior_mean: npt.ArrayLike = 0.0,
    prior_sd: npt.ArrayLike = np.inf,
) -> tuple[FloatArray, FloatArray]:
    """Conjugate update of N(prior_mean, prior_sd²) by an estimate with standard error se."""
    est = np.asarray(estimate, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    m0 = np.asarray(prior_mean, dtype=np.float64)
    t0 = np.asarray(prior_sd, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        prior_prec = np.where(np.isfinite(t0), 1.0 / t0**2, 0.0)
        prec = 1.0 / s**2 + prior_prec
        mean = (est / s**2 + m0 * prior_prec) / prec
        sd = np.sqrt(1.0 / prec)
    return np.asarray(mean, dtype=np.float64), np.asarray(sd, dtype=np.float64)


def _summaries(
    mu: FloatArray, sd: FloatArray, level: float, higher_is_better: bool
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = mu / sd
        up = sd * np.exp(-0.5 * z**2) / np.sqrt(2.0 * np.pi)
        gain = up + mu * sp.ndtr(z)  # E[max(Δ, 0)]
        drop = up - mu * sp.ndtr(-z)  # E[max(−Δ, 0)]
        p_up = sp.ndtr(z)
        p_down = sp.ndtr(-z)  # not 1 − p_up: a small probability keeps its digits
        q = float(sp.ndtri(0.5 + level / 2.0))
        lo, hi = mu - q * sd, mu + q * sd
    if higher_is_better:
        return p_up, drop, gain, lo, hi
    return p_down, gain, drop, lo, hi


def compare_normal(
    control: GroupStats,
    variant: GroupStats,
    *,
    prior: NormalPrior = NormalPrior(),
    scale: Scale | None = None,
    level: float = 0.95,
    higher_is_better: bool = True,
    effect: Effect | None = None,
) -> NormalComparison:
    """Posterior of the variant's effect over control for every row (Normal model).

    ``scale`` (default: the prior's) is that of the effect reported; a prior on the other
    scale is converted with the control mean (mean·|μc|, sd·|μc| or the inverse).
    ``effect`` (on that scale) replaces the one derived from independent groups, e.g.
    CUPED's ``relative``, whose adjusted means are correlated.
    """
    if not 0.0 < level < 1.0:
        raise InputError(f"credible level must be between 0 and 1, got {level}")
    out_scale: Scale = prior.scale if scale is None else scale
    if out_scale not in ("absolute", "relative"):
        raise InputError(f"scale must be 'absolute' or 'relative', got {out_scale!r}")
    if effect is None:
        effect = (
            relative_effect(control, variant)
            if out_scale == "relative"
            else absolute_effect(control, variant)
        )
    m0: FloatArray | float = prior.mean
    s0: FloatArray | float = prior.sd
    if not prior.is_flat and prior.scale != out_scale:
        base = np.abs(control.mean)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = base if out_scale == "absolute" else 1.0 / base
        m0, s0 = prior.mean * factor, prior.sd * factor
    mu, sd = normal_posterior(effect.estimate, effect.se, m0, s0)
    bad = ~(np.isfinite(effect.se) & (effect.se > 0) & np.isfinite(effect.estimate))
    mu, sd = np.where(bad, np.nan, mu), np.where(bad, np.nan, sd)
    p, loss_v, loss_c, lo, hi = _summaries(mu, sd, level, higher_is_better)
    return NormalComparison(out_scale, mu, sd, p, loss_v, loss_c, lo, hi)


# --- more than two variants -----------------------------------------------------------

Sampler = Callable[[np.random.Generator, slice, int], FloatArray]


def prob_best(
    sampler: Sampler,
    rows: int,
    variants: int,
    *,
    draws: int = 10_000,
    seed: int = 0,
    higher_is_better: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """P(each variant is best) and E[best − it] from posterior draws (rows, variants, draws).

    ``sampler(rng, row_slice, draws)`` returns the draws of the rows in the slice; rows are
    taken in chunks to bound memory, with one seeded generator so results are repeatable.
    """
    if draws < 1:
        raise InputError(f"draws must be ≥ 1, got {draws}")
    rng = np.random.default_rng(seed)
    best = np.zeros((rows, variants))
    loss = np.zeros((rows, variants))
    step = max(1, 8_000_000 // max(1, variants * draws))
    for start in range(0, rows, step):
        sl = slice(start, min(rows, start + step))
        x = sampler(rng, sl, draws)
        if not higher_is_better:
            x = -x
        # elementwise max over the (small) variant axis; ties go to the first variant
        top = x.max(axis=1)
        taken = np.zeros(top.shape, dtype=bool)
        for v in range(variants):
            won = (x[:, v] == top) & ~taken
            taken |= won
            best[sl, v] = np.count_nonzero(won, axis=1) / draws
        mean_top = np.asarray(np.mean(top, axis=1, dtype=np.float64))
        loss[sl] = mean_top[:, None] - np.mean(x, axis=2, dtype=np.float64)
        # a posterior without a finite estimate leaves the whole row undecided
        undecided = ~np.isfinite(mean_top)
        best[sl][undecided] = np.nan
        loss[sl][undecided] = np.nan
    return best, loss


def prob_best_normal(
    means: npt.ArrayLike,
    sds: npt.ArrayLike,
    *,
    draws: int = 10_000,
    seed: int = 0,
    higher_is_better: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """P(best) and expected loss vs best for Gaussian posteriors of shape (rows, variants)."""
    mu = np.atleast_2d(np.asarray(means, dtype=np.float64))
    sd = np.atleast_2d(np.asarray(sds, dtype=np.float64))
    if mu.shape != sd.shape:
        raise InputError(f"means {mu.shape} and sds {sd.shape} differ in shape")

    # draws in float32 on a per-row standardized scale (centred, divided by the largest sd),
    # so every value is O(1) and single precision loses nothing that matters; scaled back
    finite = np.where(np.isfinite(sd) & (sd > 0), sd, 0.0)
    scale = np.max(finite, axis=1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    centre = np.mean(mu, axis=1, keepdims=True)
    loc = ((mu - centre) / scale).astype(np.float32)
    spread = (sd / scale).astype(np.float32)

    def sample(rng: np.random.Generator, sl: slice, n: int) -> FloatArray:
        z = rng.standard_normal((*loc[sl].shape, n), dtype=np.float32)
        z *= spread[sl][:, :, None]
        z += loc[sl][:, :, None]
        return z  # type: ignore[return-value]

    best, loss = prob_best(
        sample, mu.shape[0], mu.shape[1], draws=draws, seed=seed, higher_is_better=higher_is_better
    )
    return best, loss * scale


def prob_best_beta(
    alpha: npt.ArrayLike,
    beta: npt.ArrayLike,
    *,
    draws: int = 10_000,
    seed: int = 0,
    higher_is_better: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """P(best) and expected loss vs best for Beta posteriors of shape (rows, variants)."""
    a = np.atleast_2d(np.asarray(alpha, dtype=np.float64))
    b = np.atleast_2d(np.asarray(beta, dtype=np.float64))
    if a.shape != b.shape:
        raise InputError(f"alpha {a.shape} and beta {b.shape} differ in shape")
    if np.any(~(a > 0)) or np.any(~(b > 0)):
        raise InputError("Beta posterior parameters must be > 0")

    def sample(rng: np.random.Generator, sl: slice, n: int) -> FloatArray:
        shape = (*a[sl].shape, n)
        out: FloatArray = rng.beta(a[sl][:, :, None], b[sl][:, :, None], size=shape)
        return out

    return prob_best(
        sample, a.shape[0], a.shape[1], draws=draws, seed=seed, higher_is_better=higher_is_better
    )


# --- the ship rule ----------------------------------------------------------------------


class DecisionReason(StrEnum):
    """Why a variant may or may not ship under the Bayesian rule."""

    SHIP = "ship"
    PROB_TOO_LOW = "prob_better_below_threshold"
    LOSS_TOO_HIGH = "expected_loss_above_tolerance"
    BOTH = "prob_and_loss_failed"
    NO_ESTIMATE = "no_estimate"


@dataclass(frozen=True)
class BayesRule:
    """The Bayesian ship rule applied per row: ship or not, and which condition failed."""

    ship: BoolArray
    reason: npt.NDArray[np.str_]
    threshold: float
    tolerance: float


def decide(
    prob_better: npt.ArrayLike,
    expected_loss: npt.ArrayLike,
    *,
    threshold: float = 0.95,
    tolerance: float = 0.001,
) -> BayesRule:
    """Ship when P(better) ≥ threshold and the expected loss of shipping ≤ tolerance."""
    if not 0.0 < threshold < 1.0:
        raise InputError(f"threshold must be between 0 and 1, got {threshold}")
    if not tolerance >= 0.0:
        raise InputError(f"tolerance must be ≥ 0, got {tolerance}")
    p = np.atleast_1d(np.asarray(prob_better, dtype=np.float64))
    loss = np.atleast_1d(np.asarray(expected_loss, dtype=np.float64))
    p_ok = p >= threshold
    loss_ok = loss <= tolerance
    reason = np.select(
        [~(np.isfinite(p) & np.isfinite(loss)), p_ok & loss_ok, ~p_ok & ~loss_ok, ~p_ok],
        [
            DecisionReason.NO_ESTIMATE.value,
            DecisionReason.SHIP.value,
            DecisionReason.BOTH.value,
            DecisionReason.PROB_TOO_LOW.value,
        ],
        DecisionReason.LOSS_TOO_HIGH.value,
    )
    ship = reason == DecisionReason.SHIP.value
    return BayesRule(ship, reason.astype(str), threshold, tolerance)
