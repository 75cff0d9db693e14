"""Elementary distributions and exact tests that other packages need as plain numbers.

The Normal tail and quantile functions, the sign test and the exact binomial interval:
kept here so that scipy stays inside ``shipit.stats`` (bandits, simulations and the CLI
call these rather than scipy). All are vectorized over their arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special as sp

from shipit._types import FloatArray
from shipit.errors import InputError

__all__ = [
    "BinomialTest",
    "binomial_test",
    "normal_cdf",
    "normal_ppf",
    "normal_sf",
    "sign_test_p_values",
    "z_critical",
]


def normal_cdf(x: npt.ArrayLike) -> FloatArray:
    """P(Z ≤ x) for a standard Normal Z."""
    out: FloatArray = np.asarray(sp.ndtr(np.asarray(x, dtype=np.float64)), dtype=np.float64)
    return out


def normal_sf(x: npt.ArrayLike) -> FloatArray:
    """P(Z > x) for a standard Normal Z, accurate far in the upper tail."""
    out: FloatArray = np.asarray(sp.ndtr(-np.asarray(x, dtype=np.float64)), dtype=np.float64)
    return out


def normal_ppf(q: npt.ArrayLike) -> FloatArray:
    """The standard Normal quantile of probability ``q``."""
    out: FloatArray = np.asarray(sp.ndtri(np.asarray(q, dtype=np.float64)), dtype=np.float64)
    return out


def z_critical(alpha: float, *, sides: int = 2) -> float:
    """The Normal critical value of a test at level ``alpha`` with one or two sides."""
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be between 0 and 1, got {alpha}")
    if sides not in (1, 2):
        raise InputError(f"a test has one or two sides, got {sides}")
    return float(sp.ndtri(1.0 - alpha / sides))


def sign_test_p_values(wins: npt.ArrayLike, decisive: npt.ArrayLike) -> FloatArray:
    """Two-sided exact binomial (sign) test of P(win) = ½, row by row; 1 where n = 0."""
    k = np.asarray(wins, dtype=np.float64)
    n = np.asarray(decisive, dtype=np.float64)
    if np.any(k < 0) or np.any(k > n):
        raise InputError("wins must be between 0 and the number of decisive trials")
    low = np.minimum(k, n - k)
    # P(X ≤ low) for X ~ Binomial(n, ½) is the regularized incomplete beta I_½(n − low, low + 1).
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.minimum(1.0, 2.0 * sp.betainc(np.maximum(n - low, 1.0), low + 1.0, 0.5))
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
    from scipy import stats as sps

    res = sps.binomtest(k, n, p)
    ci = res.proportion_ci(confidence_level=level, method="exact")
    return BinomialTest(k / n, float(ci.low), float(ci.high), float(res.pvalue))
