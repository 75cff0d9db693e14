"""Cochran's Q: do independent estimates of one effect differ by more than chance?

Q = Σ wᵢ(θᵢ − θ̄)² with wᵢ = 1/seᵢ² and θ̄ the inverse-variance weighted mean, χ² with
k − 1 degrees of freedom under homogeneity; I² = max(0, (Q − df)/Q) is the share of the
spread beyond chance (Higgins & Thompson 2002).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from shipit.errors import InputError
from shipit.stats.normal import chi2_sf

__all__ = ["cochran_q"]


def cochran_q(estimates: npt.ArrayLike, ses: npt.ArrayLike) -> tuple[float, int, float, float]:
    """Cochran's Q, its degrees of freedom, p-value and I² (non-finite rows are left out)."""
    y = np.asarray(estimates, dtype=np.float64)
    s = np.asarray(ses, dtype=np.float64)
    if y.shape != s.shape:
        raise InputError(f"{y.size} estimates for {s.size} standard errors")
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    y, s = y[ok], s[ok]
    k = y.size
    if k < 2:
        return float("nan"), 0, float("nan"), float("nan")
    w = 1.0 / s**2
    pooled = np.sum(w * y) / w.sum()
    q = float(np.sum(w * (y - pooled) ** 2))
    df = k - 1
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    return q, df, chi2_sf(q, df), i2
