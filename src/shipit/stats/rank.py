"""The Mann-Whitney U test and the probability of superiority, from rank summaries only.

The engine hands over, per (control, variant) pair, the units of each, the variant's U
(pairs where the variant's value is above the control's, ties counting ½), the tie term
Σ(t³ − t) over the tied value groups of the pooled sample, and the sums of squared
placements of each side (a unit's placement: how many units of the other side are below
its value, ties ½). From those:

- U, z and p exactly as ``scipy.stats.mannwhitneyu(variant, control,
  method="asymptotic")`` computes them, tie-corrected, with or without the continuity
  correction (scipy's default: with);
- θ = U / (n_c·n_v) = P(Y_v > Y_c) + ½·P(Y_v = Y_c), the probability of superiority, with
  DeLong's variance Var(θ̂) = S_v/n_v + S_c/n_c (S the sample variances of the placements
  as fractions) and a normal interval clipped to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

from shipit._types import FloatArray
from shipit.errors import InputError

__all__ = ["RankResult", "mann_whitney"]


@dataclass(frozen=True)
class RankResult:
    """Per row: U of the variant, z, p, θ (probability of superiority) and its interval."""

    u: FloatArray
    z: FloatArray
    p_value: FloatArray
    prob_superiority: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray


def _arr(x: npt.ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(x, dtype=np.float64))


def mann_whitney(
    n_control: npt.ArrayLike,
    n_variant: npt.ArrayLike,
    u_variant: npt.ArrayLike,
    tie_term: npt.ArrayLike,
    placement_sq_variant: npt.ArrayLike,
    placement_sq_control: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    use_continuity: bool = True,
) -> RankResult:
    """Mann-Whitney U of variant vs control per row (``alternative`` "greater": the
    variant tends to be larger), and θ with its DeLong interval.

    ``placement_sq_variant`` is Σ over variant units of (control units below + ½ tied)²,
    ``placement_sq_control`` the same over control units against the variant's.
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise InputError(f"alternative {alternative!r} is not two-sided, greater or less")
    n1, n2 = _arr(n_variant), _arr(n_control)
    u1, ties = _arr(u_variant), _arr(tie_term)
    sq_v, sq_c = _arr(placement_sq_variant), _arr(placement_sq_control)
    with np.errstate(divide="ignore", invalid="ignore"):
        nn = n1 * n2
        n = n1 + n2
        u2 = nn - u1
        if alternative == "greater":
            u, f = u1, 1.0
        elif alternative == "less":
            u, f = u2, 1.0
        else:
            u, f = np.maximum(u1, u2), 2.0
        s = np.sqrt(nn / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0))))
        z = (u - nn / 2.0 - (0.5 if use_continuity else 0.0)) / s
        p = np.clip(f * ndtr(-z), 0.0, 1.0)
        theta = u1 / nn
        # Placements as fractions: the variant's mean θ, the control's (against the
        # variant) 1 − θ; their sample variances.
        var_v = (sq_v / n2**2 - n1 * theta**2) / (n1 - 1.0)
        var_c = (sq_c / n1**2 - n2 * (1.0 - theta) ** 2) / (n2 - 1.0)
        se = np.sqrt(np.maximum(var_v, 0.0) / n1 + np.maximum(var_c, 0.0) / n2)
        level = 1.0 - alpha if alternative == "two-sided" else 1.0 - 2.0 * alpha
        half = float(ndtri(0.5 + level / 2.0)) * se
    few = (n1 < 2) | (n2 < 2)
    nan = np.where(few, np.nan, 1.0)
    return RankResult(
        u=u1 * np.where(nn > 0, 1.0, np.nan),
        z=z * nan,
        p_value=p * nan,
        prob_superiority=theta,
        se=se * nan,
        ci_low=np.clip(theta - half, 0.0, 1.0) * nan,
        ci_high=np.clip(theta + half, 0.0, 1.0) * nan,
    )
