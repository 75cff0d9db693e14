"""Estimates after a bandit that account for its adaptive allocation.

A bandit serves more of what looked good early, so a variant's plain sample mean is biased
(the data it stopped collecting would have corrected early bad luck). Weighting each unit by
the inverse of the logged probability with which its variant was served in that period
(Horvitz–Thompson) gives an unbiased mean per variant, because the weights of a period are
fixed before its units arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray
from shipit.bandits.state import AllocationPeriod
from shipit.errors import InputError
from shipit.stats.moments import Moments
from shipit.stats.normal import z_critical

__all__ = ["AdaptiveEstimate", "ipw_from_periods", "ipw_means"]


@dataclass(frozen=True)
class AdaptiveEstimate:
    """Per-variant IPW means and their differences from the first variant (control).

    Arrays have shape (..., K); ``naive`` holds the plain sample means for comparison.
    """

    mean: FloatArray
    se: FloatArray
    lower: FloatArray
    upper: FloatArray
    effect: FloatArray
    effect_se: FloatArray
    effect_lower: FloatArray
    effect_upper: FloatArray
    naive: FloatArray


def ipw_means(
    n: npt.ArrayLike,
    total: npt.ArrayLike,
    total_sq: npt.ArrayLike,
    weights: npt.ArrayLike,
    *,
    alpha: float = 0.05,
) -> AdaptiveEstimate:
    """IPW (Horvitz–Thompson) mean of each variant from per-period, per-variant sums.

    ``n``, ``total`` (Σy) and ``total_sq`` (Σy²) have shape (..., T, K) for T allocation
    periods and K variants; ``weights`` (..., T, K) are the logged serving probabilities.
    A variant is estimated over the periods in which its weight was positive; its unit
    terms 1[served]·y/w have mean μ, so the interval is a normal one on their average.
    """
    n_, s_, ss_, w_ = (np.asarray(x, dtype=np.float64) for x in (n, total, total_sq, weights))
    if not (n_.shape == s_.shape == ss_.shape == w_.shape) or n_.ndim < 2:
        raise InputError(
            f"n, total, total_sq and weights must share one (..., T, K) shape; got {n_.shape}, "
            f"{s_.shape}, {ss_.shape}, {w_.shape}"
        )
    if np.any(w_ < 0) or np.any(w_ > 1):
        raise InputError("allocation weights must lie in [0, 1]")
    if np.any((w_ == 0) & (n_ > 0)):
        raise InputError("units were served a variant whose logged weight was 0")
    live = w_ > 0
    safe_w = np.where(live, w_, 1.0)
    units = np.sum(n_, axis=-1, keepdims=True)  # all units of each period
    big_n = np.sum(np.where(live, units, 0.0), axis=-2)  # (..., K)
    z1 = np.sum(np.where(live, s_ / safe_w, 0.0), axis=-2)  # Σ z over units
    z2 = np.sum(np.where(live, ss_ / safe_w**2, 0.0), axis=-2)  # Σ z²
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = z1 / big_n
        var = np.maximum(z2 / big_n - mean**2, 0.0) / big_n
        naive = np.sum(s_, axis=-2) / np.sum(n_, axis=-2)
    # Difference from the control: a unit contributes to one variant only, so the cross
    # term of (z_k − z_0)² vanishes; estimated over periods where both were served.
    both = live & live[..., :1]
    nb = np.sum(np.where(both, units, 0.0), axis=-2)
    d1 = np.sum(np.where(both, s_ / safe_w, 0.0), axis=-2)
    d2 = np.sum(np.where(both, ss_ / safe_w**2, 0.0), axis=-2)
    c1 = np.sum(np.where(both, (s_ / safe_w)[..., :1], 0.0), axis=-2)  # control, same periods
    c2 = np.sum(np.where(both, (ss_ / safe_w**2)[..., :1], 0.0), axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        effect = (d1 - c1) / nb
        evar = np.maximum((d2 + c2) / nb - effect**2, 0.0) / nb
        effect = np.where(np.arange(effect.shape[-1]) == 0, 0.0, effect)
        evar = np.where(np.arange(evar.shape[-1]) == 0, 0.0, evar)
    z = z_critical(alpha)
    se, effect_se = np.sqrt(var), np.sqrt(evar)
    return AdaptiveEstimate(
        mean=mean,
        se=se,
        lower=mean - z * se,
        upper=mean + z * se,
        effect=effect,
        effect_se=effect_se,
        effect_lower=effect - z * effect_se,
        effect_upper=effect + z * effect_se,
        naive=naive,
    )


def ipw_from_periods(
    periods: Sequence[AllocationPeriod],
    moments: Sequence[Moments],
    *,
    reward: str = "reward",
    alpha: float = 0.05,
) -> tuple[list[str], AdaptiveEstimate]:
    """IPW estimates from a bandit's logged periods and the moments of each period's units.

    ``moments[t]`` holds the reward moments, per variant, of the units assigned during
    ``periods[t]``. Returns the variant order (that of the first period's weights) and the
    estimate; the first variant is the control of the effects.
    """
    if len(periods) != len(moments) or not periods:
        raise InputError(f"{len(moments)} moment batches for {len(periods)} allocation periods")
    variants = list(periods[0].weights)
    for p in periods:
        variants += [v for v in p.weights if v not in variants]
    shape = (len(periods), len(variants))
    n, s, ss, w = (np.zeros(shape) for _ in range(4))
    for t, (period, m) in enumerate(zip(periods, moments, strict=True)):
        w[t] = [period.weights.get(v, 0.0) for v in variants]
        col = m.col(reward)
        for i, label in enumerate(m.labels):
            if label not in variants:
                raise InputError(f"period {t}: moments for unknown variant {label!r}")
            j = variants.index(label)
            n[t, j], s[t, j], ss[t, j] = m.n[i], m.matrix[i, 0, col], m.matrix[i, col, col]
    return variants, ipw_means(n, s, ss, w, alpha=alpha)
