"""Multiple-testing corrections over a family of p-values.

Bonferroni, Holm and Benjamini–Hochberg equal statsmodels' ``multipletests`` (the tests
check that on random families), but are computed here with a sort and a cumulative
max/min: statsmodels' Holm runs a full garbage collection on every call, which costs a
tenth of a second per request. Šidák, Holm–Šidák, Hochberg, Hommel and Benjamini–Yekutieli
(``by``) are statsmodels' own ``multipletests`` (none of those collects garbage).
NaN p-values (degenerate comparisons) are left out of the family and stay NaN, so one
empty segment neither counts as a test nor hides the others.
"""

from __future__ import annotations

from typing import get_args

import numpy as np
import numpy.typing as npt

from shipit._types import Correction, FloatArray
from shipit.errors import InputError

__all__ = ["CORRECTIONS", "adjust_p_values"]

CORRECTIONS: tuple[str, ...] = get_args(Correction)

# Our names → statsmodels' method names, for the corrections statsmodels computes.
_STATSMODELS = {
    "sidak": "sidak",
    "holm_sidak": "holm-sidak",
    "hochberg": "simes-hochberg",
    "hommel": "hommel",
    "by": "fdr_by",
}


def adjust_p_values(p_values: npt.ArrayLike, method: str = "holm") -> FloatArray:
    """Adjusted p-values of one family under ``method`` (one of ``CORRECTIONS``)."""
    if method not in CORRECTIONS:
        raise InputError(f"correction {method!r} is not one of {', '.join(CORRECTIONS)}")
    p = np.asarray(p_values, dtype=np.float64).reshape(-1)
    out = p.copy()
    if method == "none":
        return out
    keep = ~np.isnan(p)
    if np.any(~((p[keep] >= 0) & (p[keep] <= 1))):
        raise InputError("p-values must lie in [0, 1]")
    if keep.any():
        out[keep] = _adjust(p[keep], method)
    return out


def _adjust(p: FloatArray, method: str) -> FloatArray:
    """Adjusted p-values of a family without NaN (the formulas of ``multipletests``)."""
    m = p.size
    if method in _STATSMODELS:
        from statsmodels.stats.multitest import multipletests  # heavy: only when asked for

        with np.errstate(divide="ignore"):  # Šidák of p = 1 takes log(0): the answer is 1
            adjusted = multipletests(p, method=_STATSMODELS[method])[1]
        return np.minimum(np.asarray(adjusted, dtype=np.float64), 1.0)
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p)
    ranked = p[order]
    if method == "holm":  # step-down: max over k' ≤ k of (m − k' + 1)·p(k')
        adj = np.maximum.accumulate(ranked * np.arange(m, 0, -1))
    else:  # bh, step-up: min over k' ≥ k of p(k')·m/k'
        adj = np.minimum.accumulate((ranked / (np.arange(1, m + 1) / m))[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out
