"""Per-group estimands from Moments, and effects between aligned groups by the delta method.

A metric kind says what is estimated per group:

- ``proportion``: p = Σy/n, unit variance p(1 − p);
- ``mean``: ȳ = Σy/n, unit variance s² (n − 1 denominator);
- ``ratio``: R = Σnum/Σden, unit variance of the linearization (num − R·den)/mean(den).

Everything is vectorized over groups; rows of two ``GroupStats`` are compared pairwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

import numpy as np

from shipit._types import FloatArray, MetricKind
from shipit.errors import InputError
from shipit.stats.moments import Moments, rounding_noise

__all__ = [
    "Effect",
    "GroupStats",
    "absolute_effect",
    "relative_effect",
    "summarize",
]

KINDS: tuple[str, ...] = get_args(MetricKind)


@dataclass(frozen=True)
class GroupStats:
    """The estimate of each group and its sampling variance.

    ``unit_var`` is the per-unit variance (so that ``var = unit_var / n``); for ratio
    metrics it is the variance of the delta-method linearization.
    """

    n: FloatArray
    mean: FloatArray
    unit_var: FloatArray
    var: FloatArray


@dataclass(frozen=True)
class Effect:
    """An effect estimate per comparison and its standard error."""

    estimate: FloatArray
    se: FloatArray


def summarize(
    m: Moments, kind: str, *, y: str = "y", num: str = "num", den: str = "den"
) -> GroupStats:
    """Estimate and variance of each group of ``m`` for a metric kind."""
    n = m.n
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "proportion":
            p = m.mean(y)
            unit_var = p * (1.0 - p)
            return GroupStats(n, p, unit_var, unit_var / n)
        if kind == "mean":
            mean = m.mean(y)
            unit_var = m.variance(y)
            return GroupStats(n, mean, unit_var, unit_var / n)
        if kind == "ratio":
            mean_num = m.mean(num)
            mean_den = m.mean(den)
            ratio = mean_num / mean_den
            lin = (
                m.variance(num) - 2.0 * ratio * m.covariance(num, den) + ratio**2 * m.variance(den)
            )
            # num = R·den for every unit cancels to rounding noise of the raw second moments.
            raw = np.sqrt(m.sum_product(num, num)) + np.abs(ratio) * np.sqrt(
                m.sum_product(den, den)
            )
            noise = 3.0 * rounding_noise(n) * raw**2 / (n - 1)
            unit_var = np.where(lin <= noise, 0.0, lin) / mean_den**2
            return GroupStats(n, ratio, unit_var, unit_var / n)
    raise InputError(f"unknown metric kind {kind!r}: expected one of {', '.join(KINDS)}")


def absolute_effect(control: GroupStats, variant: GroupStats) -> Effect:
    """Variant minus control; independent groups, so variances add."""
    return Effect(variant.mean - control.mean, np.sqrt(variant.var + control.var))


def relative_effect(control: GroupStats, variant: GroupStats) -> Effect:
    """variant / control − 1 with its delta-method standard error.

    Var(μt/μc) ≈ Var(μt)/μc² + μt²·Var(μc)/μc⁴ for independent groups. NaN where the
    control mean is 0 (the caller marks those rows).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        mc, mt = control.mean, variant.mean
        rel = mt / mc - 1.0
        var = variant.var / mc**2 + mt**2 * control.var / mc**4
        return Effect(rel, np.sqrt(var))
