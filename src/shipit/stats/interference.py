"""Direct and spillover effects from moments over clusters: a cluster-robust regression.

The model is y = a + b_direct·t + b_spill·f + e, with t the unit's treatment and f the
share of its neighbours treated; b_spill is the effect of going from no treated neighbour
to all of them, and b_direct + b_spill the effect of treating everyone against no one.
Each cluster c contributes w_c = (X_c'y_c, the upper triangle of X_c'X_c); OLS needs Σw_c,
and the cluster sandwich Σ s_c s_cᵀ with s_c = X_c'y_c − X_c'X_c·b, linear in w_c, needs
Σ w_c w_cᵀ: both are the moments of w over clusters. Intervals use Student's t on G − 1
degrees of freedom with the G/(G − 1) correction (CR1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from shipit.errors import InputError
from shipit.stats.moments import Moments

__all__ = ["ExposureEstimate", "SpilloverFit", "fit_spillover"]

_PAIRS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))  # X'X's upper triangle, in w


@dataclass(frozen=True)
class ExposureEstimate:
    """One effect with its standard error, interval and two-sided p-value."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float


@dataclass(frozen=True)
class SpilloverFit:
    """The direct, spillover and total effects, over ``clusters`` clusters."""

    direct: ExposureEstimate
    spillover: ExposureEstimate
    total: ExposureEstimate
    clusters: int


def _estimate(value: float, se: float, df: float, alpha: float) -> ExposureEstimate:
    q = float(sps.t.ppf(1 - alpha / 2, df))
    p = float(2 * sps.t.sf(abs(value) / se, df)) if se > 0 else float("nan")
    return ExposureEstimate(value, se, value - q * se, value + q * se, p)


def fit_spillover(moments: Moments, *, alpha: float = 0.05) -> SpilloverFit:
    """The cluster-robust fit from one group of moments of w over clusters (w0..w8 as
    ``metrics.interference.REGRESSION_TERMS``)."""
    if len(moments) != 1 or len(moments.names) != 9:
        raise InputError("fit_spillover reads one group of the 9 per-cluster sums")
    g = float(moments.n[0])
    if g < 3:
        raise InputError(f"{g:g} clusters: a cluster-robust fit of 3 coefficients needs more")
    total = moments.sums[0]
    xty = total[:3]
    xtx = np.zeros((3, 3))
    for k, (i, j) in enumerate(_PAIRS):
        xtx[i, j] = xtx[j, i] = total[3 + k]
    if np.linalg.matrix_rank(xtx) < 3:
        raise InputError(
            "treatment and the treated share of neighbours are collinear (or constant): "
            "the direct and spillover effects cannot be told apart"
        )
    beta = np.linalg.solve(xtx, xty)
    # s_c = L w_c: the identity on X'y, minus X'X_c·b spread over its triangle.
    lin = np.zeros((3, 9))
    lin[:, :3] = np.eye(3)
    for k, (i, j) in enumerate(_PAIRS):
        lin[i, 3 + k] -= beta[j]
        if i != j:
            lin[j, 3 + k] -= beta[i]
    meat = lin @ moments.cross[0] @ lin.T * (g / (g - 1.0))
    bread = np.linalg.inv(xtx)
    cov = bread @ meat @ bread
    df = g - 1.0
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    total_se = float(np.sqrt(max(cov[1, 1] + cov[2, 2] + 2 * cov[1, 2], 0.0)))
    return SpilloverFit(
        direct=_estimate(float(beta[1]), float(se[1]), df, alpha),
        spillover=_estimate(float(beta[2]), float(se[2]), df, alpha),
        total=_estimate(float(beta[1] + beta[2]), total_se, df, alpha),
        clusters=int(g),
    )
