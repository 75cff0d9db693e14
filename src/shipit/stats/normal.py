"""Normal and χ² tails and quantiles, and the exact sign and binomial tests, as plain numbers.

One home for the small numerics other packages need (decision rules, bandits, simulations,
the CLI), so that scipy stays inside ``shipit.stats``. Nothing here imports scipy at import
time: ``shipit power`` plans with a handful of normal quantiles, and ``scipy.stats`` costs
about a second of start-up. Small inputs use the standard library (``math.erfc`` and
``statistics.NormalDist.inv_cdf``, accurate to a few ulps, tails included); large arrays go
to ``scipy.special`` (imported then), which is vectorized. Scalars in give floats out;
arrays keep their shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import overload

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray
from shipit.errors import InputError

__all__ = [
    "BinomialTest",
    "binomial_test",
    "chi2_sf",
    "contingency_p_value",
    "normal_cdf",
    "normal_isf",
    "normal_ppf",
    "normal_quantile",
    "normal_sf",
    "sign_test_p_values",
    "two_sided_p",
    "z_critical",
]

# Up to this many elements a Python loop costs less than importing scipy.special.
_SMALL = 256
_STANDARD = NormalDist()
_SQRT2 = math.sqrt(2.0)


def _lower(x: float) -> float:
    """P(Z ≤ x), accurate in the far lower tail (erfc does not cancel)."""
    return 0.5 * math.erfc(-x / _SQRT2)


def _quantile(p: float) -> float:
    """The p-quantile; -inf at 0, inf at 1 and nan outside [0, 1], as scipy does."""
    if not 0.0 < p < 1.0:
        return {0.0: -math.inf, 1.0: math.inf}.get(p, math.nan)
    return _STANDARD.inv_cdf(p)


def _elementwise(values: npt.ArrayLike, small: Callable[[float], float], big: str) -> FloatArray:
    """``small`` on each element of a small input, else ``scipy.special.<big>`` on the array."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size > _SMALL:
        from scipy import special

        out = np.asarray(getattr(special, big)(arr), dtype=np.float64)
    else:
        flat = np.fromiter((small(float(v)) for v in arr.ravel()), np.float64, arr.size)
        out = flat.reshape(arr.shape)
    result: FloatArray = out[()] if out.ndim == 0 else out
    return result


@overload
def normal_cdf(x: float) -> float: ...
@overload
def normal_cdf(x: npt.ArrayLike) -> FloatArray: ...
def normal_cdf(x: npt.ArrayLike) -> FloatArray | float:
    """Φ(x) = P(Z ≤ x) for a standard Normal Z."""
    return _elementwise(x, _lower, "ndtr")


@overload
def normal_sf(x: float) -> float: ...
@overload
def normal_sf(x: npt.ArrayLike) -> FloatArray: ...
def normal_sf(x: npt.ArrayLike) -> FloatArray | float:
    """1 − Φ(x) = P(Z > x), accurate far in the upper tail."""
    return _elementwise(-np.asarray(x, dtype=np.float64), _lower, "ndtr")


@overload
def normal_ppf(q: float) -> float: ...
@overload
def normal_ppf(q: npt.ArrayLike) -> FloatArray: ...
def normal_ppf(q: npt.ArrayLike) -> FloatArray | float:
    """Φ⁻¹(q): z with P(Z ≤ z) = q; -inf at 0, inf at 1, nan outside [0, 1]."""
    return _elementwise(q, _quantile, "ndtri")


@overload
def normal_isf(q: float) -> float: ...
@overload
def normal_isf(q: npt.ArrayLike) -> FloatArray: ...
def normal_isf(q: npt.ArrayLike) -> FloatArray | float:
    """The inverse survival function: z with P(Z > z) = q."""
    out: FloatArray = -_elementwise(q, _quantile, "ndtri")
    return out


def normal_quantile(q: float) -> float:
    """Φ⁻¹(q) for one probability, refusing q outside (0, 1) rather than returning ±inf."""
    if not 0.0 < q < 1.0:
        raise InputError(f"a normal quantile needs a probability in (0, 1), got {q}")
    return _quantile(float(q))


def two_sided_p(z: float) -> float:
    """The two-sided p-value 2·(1 − Φ(|z|)) of a z statistic."""
    return 2.0 * _lower(-abs(float(z)))


def z_critical(alpha: float, *, sides: int = 2) -> float:
    """The Normal critical value of a test at level ``alpha`` with one or two sides."""
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be between 0 and 1, got {alpha}")
    if sides not in (1, 2):
        raise InputError(f"a test has one or two sides, got {sides}")
    return -_quantile(alpha / sides)


def chi2_sf(q: float, df: int) -> float:
    """P(χ²_df ≥ q)."""
    from scipy import special

    return float(special.chdtrc(df, q))


def contingency_p_value(table: npt.ArrayLike) -> float:
    """p-value of the χ² test of independence of a 2-D table of counts (Yates for 2 × 2)."""
    t = np.asarray(table, dtype=np.float64)
    if t.ndim != 2 or min(t.shape) < 2:
        raise InputError(f"a contingency table needs at least 2 × 2 cells, got shape {t.shape}")
    from scipy import stats

    return float(stats.chi2_contingency(t).pvalue)


def sign_test_p_values(wins: npt.ArrayLike, decisive: npt.ArrayLike) -> FloatArray:
    """Two-sided exact binomial (sign) test of P(win) = ½, row by row; 1 where n = 0."""
    from scipy import special

    k = np.asarray(wins, dtype=np.float64)
    n = np.asarray(decisive, dtype=np.float64)
    if np.any(k < 0) or np.any(k > n):
        raise InputError("wins must be between 0 and the number of decisive trials")
    low = np.minimum(k, n - k)
    # P(X ≤ low) for X ~ Binomial(n, ½) is the regularized incomplete beta I_½(n − low, low + 1).
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.minimum(1.0, 2.0 * special.betainc(np.maximum(n - low, 1.0), low + 1.0, 0.5))
    return np.asarray(np.where(n > 0, p, 1.0), dtype=np.float64)


@dataclass(frozen=True)
class BinomialTest:
    """An exact binomial test of one proportion, with its Clopper–Pearson interval."""

    share: float
    lower: float
    upper: float
    p_value: float


def binomial_test(k: int, n: int, *, p: float = 0.5, level: float = 0.95) -> BinomialTest:
    """Exact two-sided test of P(success) = ``p`` and the Clopper–Pearson interval."""
    if n <= 0 or not 0 <= k <= n:
        raise InputError(f"a binomial test needs 0 ≤ k ≤ n and n > 0, got k={k}, n={n}")
    if not 0.0 < level < 1.0:
        raise InputError(f"level must be between 0 and 1, got {level}")
    from scipy import stats

    res = stats.binomtest(k, n, p)
    ci = res.proportion_ci(confidence_level=level, method="exact")
    return BinomialTest(k / n, float(ci.low), float(ci.high), float(res.pvalue))
