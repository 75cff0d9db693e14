"""CUPED building blocks: per-group linearizations, covariate selection, masked inverses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shipit._types import BoolArray, FloatArray
from shipit.stats.moments import Moments

#: A covariate: a column name, or a (numerator, denominator) pair forming a ratio covariate.
Covariate = str | tuple[str, str]

__all__ = ["Covariate", "Linear", "inverse_masked", "linearize", "quad", "select"]


@dataclass(frozen=True)
class Linear:
    """Per-group estimate, its linearization a, covariate estimates h and linearizations B."""

    est: FloatArray  # (G,)
    a: FloatArray  # (G, p)
    h: FloatArray  # (G, m)
    b: FloatArray  # (G, p, m)
    centred: FloatArray  # (G, p, p): Σ(z − z̄)(z − z̄)ᵀ
    raw: FloatArray  # (G, p, p): Σzzᵀ


def linearize(
    m: Moments, kind: str, covariates: Sequence[Covariate], y: str, num: str, den: str
) -> Linear:
    g, p = len(m), len(m.names)
    n = m.n
    sums = m.sums
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / n[:, None]
        centred = m.cross - sums[:, :, None] * sums[:, None, :] / n[:, None, None]
        a = np.zeros((g, p))
        if kind == "ratio":
            i, j = m.col(num) - 1, m.col(den) - 1
            ratio = means[:, i] / means[:, j]
            a[:, i] = 1.0 / means[:, j]
            a[:, j] = -ratio / means[:, j]
            est = ratio
        else:
            i = m.col(y) - 1
            a[:, i] = 1.0
            est = means[:, i]
        h = np.zeros((g, len(covariates)))
        b = np.zeros((g, p, len(covariates)))
        for c, cov in enumerate(covariates):
            if isinstance(cov, str):
                i = m.col(cov) - 1
                b[:, i, c] = 1.0
                h[:, c] = means[:, i]
            else:
                i, j = m.col(cov[0]) - 1, m.col(cov[1]) - 1
                r = means[:, i] / means[:, j]
                b[:, i, c] = 1.0 / means[:, j]
                b[:, j, c] = -r / means[:, j]
                h[:, c] = r
    return Linear(est, a, h, b, centred, np.asarray(m.cross))


def quad(left: FloatArray, mat: FloatArray, right: FloatArray) -> FloatArray:
    """Batched leftᵀ·mat·right for (G, p, i), (G, p, p), (G, p, j) → (G, i, j)."""
    out: FloatArray = np.einsum("gpi,gpq,gqj->gij", left, mat, right)
    return out


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
