"""Funnel step conversions from counts: each step's share of exposed units and its
conversion from the previous step, with Wilson score intervals (good near 0 and 1)."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from shipit._types import FloatArray
from shipit.errors import InputError

__all__ = ["StepConversions", "step_conversions", "wilson_interval"]


def wilson_interval(
    successes: FloatArray, trials: FloatArray, alpha: float = 0.05
) -> tuple[FloatArray, FloatArray]:
    """The Wilson score interval of a proportion, elementwise (NaN where trials is 0)."""
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be in (0, 1), got {alpha}")
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n)
        half = z / (1.0 + z * z / n) * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    bad = ~(n > 0)
    lo: FloatArray = np.where(bad, np.nan, np.clip(centre - half, 0.0, 1.0))
    hi: FloatArray = np.where(bad, np.nan, np.clip(centre + half, 0.0, 1.0))
    return lo, hi


@dataclass(frozen=True)
class StepConversions:
    """Per group (rows) and step (columns): the share of units reaching the step, and the
    conversion from the previous step (the first step's is its share), with intervals."""

    rate: FloatArray
    rate_low: FloatArray
    rate_high: FloatArray
    conversion: FloatArray
    conversion_low: FloatArray
    conversion_high: FloatArray


def step_conversions(n: FloatArray, reached: FloatArray, alpha: float = 0.05) -> StepConversions:
    """Step shares and conversions from ``n`` units per group and ``reached`` (groups ×
    steps) units that did the steps up to each one in order."""
    units = np.asarray(n, dtype=np.float64)
    r = np.asarray(reached, dtype=np.float64)
    if r.ndim != 2 or r.shape[0] != units.shape[0]:
        raise InputError(f"reached must be (groups, steps) for {units.shape[0]} groups")
    if np.any(np.diff(r, axis=1) > 0) or np.any(r > units[:, None]):
        raise InputError("a step cannot be reached by more units than the one before it")
    trials = np.column_stack([units, r[:, :-1]]) if r.shape[1] else r
    base = np.broadcast_to(units[:, None], r.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(base > 0, r / base, np.nan)
        conversion = np.where(trials > 0, r / trials, np.nan)
    rl, rh = wilson_interval(r, base, alpha)
    cl, ch = wilson_interval(r, trials, alpha)
    return StepConversions(rate, rl, rh, conversion, cl, ch)
