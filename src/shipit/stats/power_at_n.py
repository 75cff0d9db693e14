"""Power and minimum detectable effect at a given number of units per variant.

The exact power of the z-test a comparison uses, both rejection regions counted for a
two-sided test: for means and ratios Φ(δ/se − z) + Φ(−δ/se − z) with se = σ·√(2/n); for
proportions the pooled variance under the null and the unpooled one under the
alternative (as ``statsmodels``' ``NormalIndPower`` and ``power_proportions_2indep``).
The MDE solves power(δ) = target by bisection, vectorized. Alpha is split Bonferroni-wise
over the comparisons with the control and an expected variance reduction (CUPED) scales
the effective n by 1/(1 − r), as in ``shipit.stats.power``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray
from shipit.errors import InputError
from shipit.stats import normal as norm
from shipit.stats.power import comparison_alpha

__all__ = ["achieved_power", "detectable_effect"]

_ALTERNATIVES = ("two-sided", "greater", "less")


def _settings(
    n: npt.ArrayLike, alpha: float, variants: int, alternative: str, variance_reduction: float
) -> tuple[FloatArray, float, bool]:
    """Effective n, the critical z and whether the test is two-sided."""
    if alternative not in _ALTERNATIVES:
        raise InputError(f"alternative {alternative!r} is not one of {', '.join(_ALTERNATIVES)}")
    if not 0.0 <= variance_reduction < 1.0:
        raise InputError(f"variance_reduction must be in [0, 1), got {variance_reduction}")
    units = np.asarray(n, dtype=np.float64)
    if np.any(~(units >= 2)) or not np.all(np.isfinite(units)):
        raise InputError("n (units per variant) must be a finite number ≥ 2")
    a = comparison_alpha(alpha, variants)
    two = alternative == "two-sided"
    z = float(norm.normal_isf(a / 2.0 if two else a))
    return units / (1.0 - variance_reduction), z, two


def _check_baseline(kind: str, baseline: float | None, sd: float | None) -> None:
    if kind == "proportion":
        if baseline is None or not 0.0 < baseline < 1.0:
            raise InputError("a proportion needs --baseline strictly between 0 and 1")
    elif kind in ("mean", "ratio"):
        if sd is None or not (sd > 0 and np.isfinite(sd)):
            raise InputError(f"a {kind} metric needs the per-unit standard deviation (--sd) > 0")
    else:
        raise InputError(f"unknown metric kind {kind!r}: expected proportion, mean or ratio")


def _power_abs(
    kind: str,
    delta: FloatArray,
    n_eff: FloatArray,
    z: float,
    two: bool,
    baseline: float | None,
    sd: float | None,
    down: bool = False,
) -> FloatArray:
    """Power against an absolute effect δ > 0 in the tested direction."""
    if kind == "proportion":
        assert baseline is not None
        # an increase, or a decrease when the alternative is "less"
        p1, p2 = baseline, baseline + (-delta if down else delta)
        pbar = (p1 + p2) / 2.0
        null = np.sqrt(2.0 * pbar * (1.0 - pbar))
        alt = np.sqrt(p1 * (1.0 - p1) + p2 * (1.0 - p2))
    else:
        assert sd is not None
        null = alt = np.full(np.shape(delta), sd * np.sqrt(2.0))
    shift = delta * np.sqrt(n_eff) / alt
    ratio = null / alt
    out: FloatArray = norm.normal_sf(z * ratio - shift)
    if two:
        out = out + norm.normal_cdf(-z * ratio - shift)
    return out


def _absolute(mde: npt.ArrayLike, baseline: float | None, relative: bool) -> FloatArray:
    d = np.abs(np.asarray(mde, dtype=np.float64))
    if relative:
        if baseline is None or baseline == 0:
            raise InputError("a relative mde needs a non-zero --baseline")
        d = d * abs(baseline)
    if np.any(~(d > 0)) or not np.all(np.isfinite(d)):
        raise InputError("mde must be finite and ≠ 0")
    return d


def achieved_power(
    kind: str,
    n: npt.ArrayLike,
    mde: npt.ArrayLike,
    *,
    baseline: float | None = None,
    sd: float | None = None,
    relative: bool = False,
    alpha: float = 0.05,
    variants: int = 2,
    alternative: str = "two-sided",
    variance_reduction: float = 0.0,
) -> FloatArray:
    """Power of the test with n units per variant against an effect of size ``mde``.

    For proportions the effect is an increase from the baseline (p₂ = p₁ + δ), a decrease
    when the alternative is "less".
    """
    _check_baseline(kind, baseline, sd)
    n_eff, z, two = _settings(n, alpha, variants, alternative, variance_reduction)
    d = _absolute(mde, baseline, relative)
    down = alternative == "less"
    if kind == "proportion":
        assert baseline is not None
        p2 = baseline - d if down else baseline + d
        if np.any((p2 <= 0.0) | (p2 >= 1.0)):
            raise InputError("baseline ± mde must stay strictly between 0 and 1")
    return _power_abs(kind, d, n_eff, z, two, baseline, sd, down)


def detectable_effect(
    kind: str,
    n: npt.ArrayLike,
    *,
    baseline: float | None = None,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
    alternative: str = "two-sided",
    variance_reduction: float = 0.0,
) -> FloatArray:
    """Smallest absolute effect detected with the given power at n units per variant.

    For proportions, the smallest increase p₂ − p₁ (decrease with "less"); NaN where even
    p₂ → 1 (or 0) falls short.
    """
    _check_baseline(kind, baseline, sd)
    if not 0.0 < power < 1.0:
        raise InputError(f"power must be between 0 and 1, got {power}")
    n_eff, z, two = _settings(n, alpha, variants, alternative, variance_reduction)
    if power <= comparison_alpha(alpha, variants):
        raise InputError(f"power {power} must exceed alpha per comparison (no effect has less)")
    down = alternative == "less"
    if kind == "proportion":
        assert baseline is not None
        hi = np.full(n_eff.shape, baseline if down else 1.0 - baseline)
    else:
        assert sd is not None
        # the one-region formula's effect has at least the target power: a valid bracket
        hi = (z + float(norm.normal_ppf(power)) + 1.0) * sd * np.sqrt(2.0 / n_eff)
    lo = np.zeros(n_eff.shape)
    for _ in range(200):  # the bracket halves each step: 200 steps reach float precision
        mid = (lo + hi) / 2.0
        enough = _power_abs(kind, mid, n_eff, z, two, baseline, sd, down) >= power
        hi = np.where(enough, mid, hi)
        lo = np.where(enough, lo, mid)
    reached = _power_abs(kind, hi, n_eff, z, two, baseline, sd, down) >= power * (1 - 1e-12)
    out: FloatArray = np.where(reached, hi, np.nan)
    return out
