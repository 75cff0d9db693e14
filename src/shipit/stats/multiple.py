"""Multiple-testing corrections over a family of p-values (statsmodels' ``multipletests``).

NaN p-values (degenerate comparisons) are left out of the family and stay NaN, so one
empty segment neither counts as a test nor hides the others.
"""

from __future__ import annotations

from typing import get_args

import numpy as np
import numpy.typing as npt
from statsmodels.stats.multitest import multipletests

from shipit._types import Correction, FloatArray
from shipit.errors import InputError

__all__ = ["CORRECTIONS", "adjust_p_values"]

CORRECTIONS: tuple[str, ...] = get_args(Correction)
_STATSMODELS_METHOD = {"bonferroni": "bonferroni", "holm": "holm", "bh": "fdr_bh"}


def adjust_p_values(p_values: npt.ArrayLike, method: str = "holm") -> FloatArray:
    """Adjusted p-values of one family (``none``, ``bonferroni``, ``holm`` or ``bh``)."""
    if method not in CORRECTIONS:
        raise InputError(f"correction {method!r} is not one of {', '.join(CORRECTIONS)}")
    p = np.asarray(p_values, dtype=np.float64).reshape(-1)
    out = p.copy()
    if method == "none":
        return out
    keep = np.isfinite(p)
    if np.any((p[keep] < 0) | (p[keep] > 1)):
        raise InputError("p-values must lie in [0, 1]")
    if keep.any():
        adjusted = multipletests(p[keep], method=_STATSMODELS_METHOD[method])[1]
        out[keep] = np.asarray(adjusted, dtype=np.float64)
    return out
