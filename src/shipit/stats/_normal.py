"""The standard normal cdf, sf, ppf and isf, without importing scipy for small inputs.

Planning (``shipit power``) needs a handful of normal quantiles; importing ``scipy.stats``
for them costs about a second of start-up. Small inputs use the standard library
(``math.erfc``, ``statistics.NormalDist.inv_cdf``, both accurate to a few ulps, tails
included); large arrays go to ``scipy.special`` (imported then), which is vectorized.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray

__all__ = ["cdf", "isf", "ppf", "sf"]

# Up to this many elements a Python loop costs less than importing scipy.special.
_SMALL = 256
_STANDARD = NormalDist()
_SQRT2 = math.sqrt(2.0)


def _upper(x: float) -> float:
    """P(Z > x), accurate in the far upper tail (erfc does not cancel)."""
    return 0.5 * math.erfc(x / _SQRT2)


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


def _lower(x: float) -> float:
    return _upper(-x)


def cdf(x: npt.ArrayLike) -> FloatArray:
    """P(Z ≤ x) for the standard normal Z."""
    return _elementwise(x, _lower, "ndtr")


def sf(x: npt.ArrayLike) -> FloatArray:
    """P(Z > x) for the standard normal Z."""
    return _elementwise(-np.asarray(x, dtype=np.float64), _lower, "ndtr")


def ppf(p: npt.ArrayLike) -> FloatArray:
    """The quantile function: z with P(Z ≤ z) = p."""
    return _elementwise(p, _quantile, "ndtri")


def isf(p: npt.ArrayLike) -> FloatArray:
    """The inverse survival function: z with P(Z > z) = p."""
    out: FloatArray = -_elementwise(p, _quantile, "ndtri")
    return out
