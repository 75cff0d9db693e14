"""Sample-ratio mismatch: Pearson χ² goodness of fit of unit counts against planned weights.

A mismatch means assignment or logging is broken, so the effects cannot be trusted. The
test is vectorized: ``counts`` may hold several count sets (one row each, e.g. per day or
per segment) tested against the same or row-wise weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from shipit._types import BoolArray, FloatArray
from shipit.errors import InputError

__all__ = ["DEFAULT_THRESHOLD", "SrmResult", "srm_test"]

DEFAULT_THRESHOLD = 0.001


@dataclass(frozen=True)
class SrmResult:
    """χ² statistic, p-value and verdict per count set (NaN p-value where no units)."""

    chi2: FloatArray
    df: int
    p_value: FloatArray
    mismatch: BoolArray
    threshold: float


def srm_test(
    counts: npt.ArrayLike, weights: npt.ArrayLike, *, threshold: float = DEFAULT_THRESHOLD
) -> SrmResult:
    """Test observed unit counts per variant against planned weights (any number of variants).

    ``counts`` is (V,) or (S, V); ``weights`` is (V,) or (S, V) and is normalized to sum to 1.
    ``mismatch`` is ``p_value < threshold``.
    """
    obs = np.atleast_2d(np.asarray(counts, dtype=np.float64))
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    if obs.shape[-1] < 2:
        raise InputError(f"SRM needs at least two variants, got {obs.shape[-1]}")
    if w.shape[-1] != obs.shape[-1]:
        raise InputError(f"{w.shape[-1]} weights for {obs.shape[-1]} variants")
    if not np.all(np.isfinite(obs)) or np.any(obs < 0):
        raise InputError("SRM counts must be finite and ≥ 0")
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise InputError("SRM weights must be finite and > 0")
    if not 0.0 < threshold < 1.0:
        raise InputError(f"SRM threshold must be between 0 and 1, got {threshold}")
    total = obs.sum(axis=1, keepdims=True)
    expected = total * (w / w.sum(axis=1, keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        chi2 = np.sum((obs - expected) ** 2 / expected, axis=1)
    df = obs.shape[1] - 1
    p = sps.chi2.sf(chi2, df)
    mismatch = np.asarray(p < threshold, dtype=np.bool_)
    return SrmResult(chi2=chi2, df=df, p_value=p, mismatch=mismatch, threshold=threshold)
