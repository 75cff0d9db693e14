"""Normal and χ² tail probabilities and quantiles: the small numerics the decision rules use.

Scalar in, float out, so that rules and checks outside ``stats`` need no scipy of their own.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special as sp
from scipy import stats as sps

from shipit.errors import InputError

__all__ = [
    "chi2_sf",
    "contingency_p_value",
    "normal_cdf",
    "normal_quantile",
    "normal_sf",
    "two_sided_p",
]


def normal_cdf(z: float) -> float:
    """Φ(z)."""
    return float(sp.ndtr(z))


def normal_sf(z: float) -> float:
    """1 − Φ(z), accurate in the upper tail."""
    return float(sp.ndtr(-z))


def normal_quantile(q: float) -> float:
    """Φ⁻¹(q) for q in (0, 1)."""
    if not 0.0 < q < 1.0:
        raise InputError(f"a normal quantile needs a probability in (0, 1), got {q}")
    return float(sp.ndtri(q))


def two_sided_p(z: float) -> float:
    """The two-sided p-value 2·(1 − Φ(|z|)) of a z statistic."""
    return float(2.0 * sp.ndtr(-abs(z)))


def chi2_sf(q: float, df: int) -> float:
    """P(χ²_df ≥ q)."""
    return float(sp.chdtrc(df, q))


def contingency_p_value(table: npt.ArrayLike) -> float:
    """p-value of the χ² test of independence of a 2-D table of counts (Yates for 2 × 2)."""
    t = np.asarray(table, dtype=np.float64)
    if t.ndim != 2 or min(t.shape) < 2:
        raise InputError(f"a contingency table needs at least 2 × 2 cells, got shape {t.shape}")
    return float(sps.chi2_contingency(t).pvalue)
