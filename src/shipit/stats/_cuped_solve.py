"""Which covariates a CUPED row can use, and the inverse of its normal equations on them."""

from __future__ import annotations

import numpy as np

from shipit._types import BoolArray, FloatArray

__all__ = ["inverse_masked", "select"]


def select(cov: FloatArray, raw_diag: FloatArray, room: FloatArray, tol: float) -> BoolArray:
    """Greedy in column order: keep a covariate unless earlier kept ones explain it.

    At most ``room`` covariates are kept per row, so the residual keeps a degree of freedom.
    """
    g, k, _ = cov.shape
    keep = np.zeros((g, k), dtype=bool)
    diag = np.diagonal(cov, axis1=1, axis2=2)
    finite = np.all(np.isfinite(cov.reshape(g, -1)), axis=1)
    # a centred variance that is rounding noise of the raw second moment is zero
    alive = finite[:, None] & (diag > 1e-12 * np.abs(raw_diag)) & (diag > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(alive, np.sqrt(np.where(alive, diag, 1.0)), 1.0)
        corr = cov / (scale[:, :, None] * scale[:, None, :])
    corr = np.where(finite[:, None, None], corr, 0.0)
    eye = np.eye(k)
    for j in range(k):
        if j == 0:
            resid = np.ones(g)
        else:
            prev = keep[:, :j]
            both = prev[:, :, None] & prev[:, None, :]
            sub = np.where(both, corr[:, :j, :j], eye[:j, :j])
            rhs = np.where(prev, corr[:, :j, j], 0.0)
            sol = np.linalg.solve(sub, rhs[:, :, None])[:, :, 0]
            resid = 1.0 - np.sum(rhs * sol, axis=1)
        keep[:, j] = alive[:, j] & (resid > tol) & (keep[:, :j].sum(axis=1) < room)
    return keep


def inverse_masked(mat: FloatArray, keep: BoolArray) -> FloatArray:
    """mat⁻¹ on the kept covariates of each row, 0 in the rows and columns of the others."""
    k = mat.shape[1]
    both = keep[:, :, None] & keep[:, None, :]
    inv: FloatArray = np.linalg.inv(np.where(both, mat, np.eye(k)))
    return np.where(both, inv, 0.0)
