"""Sample size, minimum detectable effect and power for planning an experiment.

Per-variant n for a comparison of one variant with the control (equal allocation):

- proportions: n = (z₁₋α/₂·√(2p̄q̄) + z₁₋β·√(p₁q₁ + p₂q₂))² / (p₂ − p₁)², p̄ = (p₁ + p₂)/2
  (pooled variance under the null, as the z-test uses it);
- means and ratios: n = (z₁₋α/₂ + z₁₋β)²·2σ²/δ², σ² the per-unit variance (for a ratio,
  of its delta-method linearization).

With more than two variants alpha is split Bonferroni-wise over the comparisons with the
control; an expected variance reduction r (e.g. from CUPED) scales n by (1 − r). All
functions broadcast over numpy arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import get_args

import numpy as np
import numpy.typing as npt

from shipit._types import Alternative, FloatArray, MetricKind
from shipit.errors import InputError
from shipit.stats import normal as norm

__all__ = [
    "PowerPlan",
    "comparison_alpha",
    "days_needed",
    "mde_mean",
    "mde_proportion",
    "plan_sample_size",
    "power_mean",
    "power_proportion",
    "sample_size_mean",
    "sample_size_proportion",
]

_KINDS: tuple[str, ...] = get_args(MetricKind)
_ALTERNATIVES: tuple[str, ...] = get_args(Alternative)


def comparison_alpha(alpha: float, variants: int) -> float:
    """Alpha per comparison with the control: Bonferroni over ``variants − 1`` comparisons."""
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be between 0 and 1, got {alpha}")
    if variants < 2:
        raise InputError(f"variants must be at least 2 (control included), got {variants}")
    return alpha / (variants - 1)


def _z(alpha: float, power: float, variants: int, alternative: str) -> tuple[float, float]:
    if alternative not in _ALTERNATIVES:
        raise InputError(f"alternative {alternative!r} is not one of {', '.join(_ALTERNATIVES)}")
    if not 0.0 < power < 1.0:
        raise InputError(f"power must be between 0 and 1, got {power}")
    a = comparison_alpha(alpha, variants)
    tail = a / 2.0 if alternative == "two-sided" else a
    return float(norm.normal_isf(tail)), float(norm.normal_ppf(power))


def _z_alpha(alpha: float, variants: int, alternative: str) -> float:
    return _z(alpha, 0.5, variants, alternative)[0]


def _reduction(variance_reduction: float) -> float:
    if not 0.0 <= variance_reduction < 1.0:
        raise InputError(f"variance_reduction must be in [0, 1), got {variance_reduction}")
    return 1.0 - variance_reduction


def _target_proportion(
    baseline: npt.ArrayLike, mde: npt.ArrayLike, relative: bool
) -> tuple[FloatArray, FloatArray]:
    p1 = np.asarray(baseline, dtype=np.float64)
    d = np.asarray(mde, dtype=np.float64)
    p2 = p1 * (1.0 + d) if relative else p1 + d
    if np.any((p1 <= 0) | (p1 >= 1)):
        raise InputError("baseline proportion must be strictly between 0 and 1")
    if np.any((p2 <= 0) | (p2 >= 1) | (p2 == p1)):
        raise InputError("baseline + mde must be a proportion strictly between 0 and 1, ≠ baseline")
    return p1, p2


def _proportion_n(p1: FloatArray, p2: FloatArray, za: float, zb: float) -> FloatArray:
    """Per-variant n of the proportion formula (pooled variance under the null)."""
    pbar = (p1 + p2) / 2.0
    num = za * np.sqrt(2.0 * pbar * (1.0 - pbar)) + zb * np.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    with np.errstate(divide="ignore"):
        n: FloatArray = num**2 / (p2 - p1) ** 2
    return n


def _effective_n(n: npt.ArrayLike, variance_reduction: float) -> FloatArray:
    """Units per variant as worth n / (1 − r) unadjusted units after a variance reduction r."""
    nn = np.asarray(n, dtype=np.float64)
    if np.any(~(nn > 0)):
        raise InputError("n (units per variant) must be > 0")
    out: FloatArray = nn / _reduction(variance_reduction)
    return out


def _sd(sd: npt.ArrayLike) -> FloatArray:
    s = np.asarray(sd, dtype=np.float64)
    if np.any(~(s > 0)) or not np.all(np.isfinite(s)):
        raise InputError("sd must be finite and > 0")
    return s


def _delta(mde: npt.ArrayLike, baseline: npt.ArrayLike | None, relative: bool) -> FloatArray:
    d = np.asarray(mde, dtype=np.float64)
    if relative:
        if baseline is None:
            raise InputError("a relative mde for a mean or ratio needs the baseline mean")
        d = d * np.asarray(baseline, dtype=np.float64)
    if np.any(d == 0) or not np.all(np.isfinite(d)):
        raise InputError("mde must be finite and ≠ 0")
    return np.abs(d)


def sample_size_proportion(
    baseline: npt.ArrayLike,
    mde: npt.ArrayLike,
    *,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
    alternative: str = "two-sided",
    variance_reduction: float = 0.0,
) -> FloatArray:
    """Units per variant (not rounded) to detect baseline → baseline + mde (or ×(1 + mde))."""
    za, zb = _z(alpha, power, variants, alternative)
    p1, p2 = _target_proportion(baseline, mde, relative)
    n: FloatArray = _proportion_n(p1, p2, za, zb) * _reduction(variance_reduction)
    return n


def sample_size_mean(
    sd: npt.ArrayLike,
    mde: npt.ArrayLike,
    *,
    baseline: npt.ArrayLike | None = None,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
    alternative: str = "two-sided",
    variance_reduction: float = 0.0,
) -> FloatArray:
    """Units per variant (not rounded) for a mean or ratio metric with per-unit sd σ."""
    za, zb = _z(alpha, power, variants, alternative)
    s, d = _sd(sd), _delta(mde, baseline, relative)
    n: FloatArray = (za + zb) ** 2 * 2.0 * s**2 / d**2 * _reduction(variance_reduction)
    return n


def power_proportion(
    baseline: npt.ArrayLike,
    mde: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    relative: bool = False,
    alpha: float = 0.05,
    variants: int = 2,
    alternative: str = "two-sided",
    variance_reduction: float = 0.0,
) -> FloatArray:
    """Achieved power with n units per variant (the sample-size formula solved for z₁₋β)."""
    za = _z_alpha(alpha, variants, alternative)
    p1, p2 = _target_proportion(baseline, mde, relative)
    n_eff = _effective_n(n, variance_reduction)
    pbar = (p1 + p2) / 2.0
    zb = (np.abs(p2 - p1) * np.sqrt(n_eff) - za * np.sqrt(2.0 * pbar * (1.0 - pbar))) / np.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    out: FloatArray = norm.normal_cdf(zb)
    return out


def power_mean(
    sd: npt.ArrayLike,
    mde: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    baseline: npt.ArrayLike | None = None,
    relative: bool = False,
    alpha: float = 0.05,
    variants: int = 2,
    alternative: str = "two-sided",
    variance_reduction: float = 0.0,
) -> FloatArray:
    """Achieved power of a mean or ratio comparison with n units per variant."""
    za = _z_alpha(alpha, variants, alternative)
    s, d = _sd(sd), _delta(mde, baseline, relative)
    n_eff = _effective_n(n, variance_reduction)
    out: FloatArray = norm.normal_cdf(d / (s * np.sqrt(2.0 / n_eff)) - za)
    return out


def mde_mean(
    sd: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
    alternative: str = "two-sided",
    variance_reduction: float = 0.0,
) -> FloatArray:
    """Smallest absolute effect detectable with n units per variant (closed form)."""
    za, zb = _z(alpha, power, variants, alternative)
    s = _sd(sd)
    n_eff = _effective_n(n, variance_reduction)
    out: FloatArray = (za + zb) * s * np.sqrt(2.0 / n_eff)
    return out


def mde_proportion(
    baseline: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
    alternative: str = "two-sided",
    variance_reduction: float = 0.0,
) -> FloatArray:
    """Smallest absolute increase p₂ − p₁ detectable with n units per variant.

    Solves the sample-size formula for p₂ > p₁ by bisection (vectorized); NaN where even
    p₂ → 1 is not detectable with n units.
    """
    za, zb = _z(alpha, power, variants, alternative)
    p1 = np.asarray(baseline, dtype=np.float64)
    if np.any((p1 <= 0) | (p1 >= 1)):
        raise InputError("baseline proportion must be strictly between 0 and 1")
    n_eff = _effective_n(n, variance_reduction)
    p1, n_eff = np.broadcast_arrays(p1, n_eff)

    lo, hi = p1.astype(np.float64), np.ones_like(p1, dtype=np.float64)
    for _ in range(64):  # the bracket in [0, 1] halves each step: 64 steps pass float precision
        mid = (lo + hi) / 2.0
        enough = _proportion_n(p1, mid, za, zb) <= n_eff
        hi = np.where(enough, mid, hi)
        lo = np.where(enough, lo, mid)
    out: FloatArray = np.where(
        _proportion_n(p1, hi, za, zb) <= n_eff * (1 + 1e-12), hi - p1, np.nan
    )
    return out


def days_needed(total_units: npt.ArrayLike, daily_units: npt.ArrayLike) -> FloatArray:
    """Whole days of traffic to reach ``total_units`` at ``daily_units`` a day."""
    daily = np.asarray(daily_units, dtype=np.float64)
    if np.any(~(daily > 0)):
        raise InputError("daily units must be > 0")
    out: FloatArray = np.ceil(np.asarray(total_units, dtype=np.float64) / daily)
    return out


@dataclass(frozen=True)
class PowerPlan:
    """A sample-size plan: units per variant and in total, and days at a daily traffic."""

    kind: str
    per_variant: int
    total: int
    variants: int
    alpha: float
    alpha_per_comparison: float
    power: float
    mde_absolute: float
    mde_relative: float | None
    days: int | None


def plan_sample_size(
    kind: str,
    mde: float,
    *,
    baseline: float | None = None,
    sd: float | None = None,
    relative: bool = False,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
    alternative: str = "two-sided",
    variance_reduction: float = 0.0,
    daily_units: float | None = None,
) -> PowerPlan:
    """The plan behind ``shipit power``: per-variant n rounded up, total, days."""
    if kind == "proportion":
        if baseline is None:
            raise InputError("a proportion plan needs the baseline rate (--baseline)")
        n = float(
            sample_size_proportion(
                baseline,
                mde,
                relative=relative,
                alpha=alpha,
                power=power,
                variants=variants,
                alternative=alternative,
                variance_reduction=variance_reduction,
            )
        )
        p2 = baseline * (1.0 + mde) if relative else baseline + mde
        mde_abs = p2 - baseline
    elif kind in _KINDS:
        if sd is None:
            raise InputError(f"a {kind} plan needs the per-unit standard deviation (--sd)")
        n = float(
            sample_size_mean(
                sd,
                mde,
                baseline=baseline,
                relative=relative,
                alpha=alpha,
                power=power,
                variants=variants,
                alternative=alternative,
                variance_reduction=variance_reduction,
            )
        )
        mde_abs = mde * baseline if relative and baseline is not None else mde
    else:
        raise InputError(f"unknown metric kind {kind!r}: expected one of {', '.join(_KINDS)}")
    per_variant = math.ceil(n - 1e-9 * n)  # float noise must not add a unit
    total = per_variant * variants
    mde_rel = mde_abs / baseline if baseline else None
    days = None if daily_units is None else int(days_needed(total, daily_units))
    return PowerPlan(
        kind=kind,
        per_variant=per_variant,
        total=total,
        variants=variants,
        alpha=alpha,
        alpha_per_comparison=comparison_alpha(alpha, variants),
        power=power,
        mde_absolute=float(mde_abs),
        mde_relative=None if mde_rel is None else float(mde_rel),
        days=days,
    )
