"""Fairness across the groups of a protected attribute, from per-group effect estimates.

Given each group's effect and standard error (independent groups): Cochran's Q for
heterogeneity; the largest difference between two groups' effects (largest minus
smallest, normal interval, variances add); the largest ratio of the groups' outcome
ratios (1 + relative effect), with a delta-method interval on the log scale; and per
group the one-sided p-value that its effect is worse than zero (below zero when higher is
better), Holm-adjusted across the groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

from shipit._types import FloatArray
from shipit.errors import InputError
from shipit.stats.heterogeneity import cochran_q
from shipit.stats.multiple import adjust_p_values

__all__ = ["FairnessResult", "group_fairness"]


@dataclass(frozen=True)
class FairnessResult:
    """Heterogeneity, the extreme groups' difference and ratio, and each group's harm test."""

    q: float
    df: int
    p_heterogeneity: float
    i_squared: float
    highest: int
    lowest: int
    difference: float
    difference_ci: tuple[float, float]
    ratio: float
    ratio_ci: tuple[float, float]
    p_harm: FloatArray
    p_harm_adjusted: FloatArray


def group_fairness(
    estimates: npt.ArrayLike,
    ses: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    higher_is_better: bool = True,
    relative: bool = True,
) -> FairnessResult:
    """The fairness summary of k ≥ 2 groups' effects (relative effects when ``relative``:
    then the ratio compares 1 + effect between groups; else the ratio is NaN)."""
    y = np.asarray(estimates, dtype=np.float64)
    s = np.asarray(ses, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise InputError(f"{y.size} estimates for {s.size} standard errors")
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    if ok.sum() < 2:
        raise InputError("fairness needs at least two groups with an effect and its error")
    q, df, p_q, i2 = cochran_q(y, s)
    z = float(ndtri(1.0 - alpha / 2.0))
    masked = np.where(ok, y, np.nan)
    hi, lo = int(np.nanargmax(masked)), int(np.nanargmin(masked))
    diff = float(y[hi] - y[lo])
    d_se = float(np.hypot(s[hi], s[lo]))
    ratio, r_ci = float("nan"), (float("nan"), float("nan"))
    if relative and y[lo] > -1.0:
        log_r = float(np.log1p(y[hi]) - np.log1p(y[lo]))
        log_se = float(np.hypot(s[hi] / (1.0 + y[hi]), s[lo] / (1.0 + y[lo])))
        ratio = float(np.exp(log_r))
        r_ci = (float(np.exp(log_r - z * log_se)), float(np.exp(log_r + z * log_se)))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = y / s
    harm = np.where(ok, ndtr(t) if higher_is_better else ndtr(-t), np.nan)
    return FairnessResult(
        q=q,
        df=df,
        p_heterogeneity=p_q,
        i_squared=i2,
        highest=hi,
        lowest=lo,
        difference=diff,
        difference_ci=(diff - z * d_se, diff + z * d_se),
        ratio=ratio,
        ratio_ci=r_ci,
        p_harm=harm,
        p_harm_adjusted=adjust_p_values(harm, "holm"),
    )
