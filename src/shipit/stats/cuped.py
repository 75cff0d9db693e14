"""CUPED regression adjustment with k pre-period covariates, from Moments only.

Every estimand (a mean, a proportion or a ratio) and every covariate (a column mean, or a
ratio of two columns) is linearized as a·z per unit, with z the columns of the Moments.
From the centred cross products of z per group, θ solves the normal equations of the
metric's linearization on the covariates' ones, pooled over the two groups compared:

- ``theta_from="within"`` (default): group-centred sums, which is exactly the OLS of y on
  [1, treatment, x − x̄] for means;
- ``theta_from="total"``: the pooled pair as one sample (GrowthBook's convention).

Each group's estimate is then shifted by −θ·(h_g − h̄), h the covariate estimates and h̄
their pooled value, and its unit variance becomes Var(a·z − θ·B·z). Covariates that are
(nearly) collinear with earlier ones, or constant, are dropped row by row; the row says so
in ``status`` rather than raising.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from shipit._types import BoolArray, FloatArray
from shipit.errors import InputError
from shipit.stats.estimands import KINDS, GroupStats, summarize
from shipit.stats.frequentist import compare, compare_stats, welch_df
from shipit.stats.moments import Moments
from shipit.stats.results import ComparisonResult

__all__ = [
    "CupedComparison",
    "CupedResult",
    "CupedStatus",
    "adjust",
    "compare_cuped",
]

#: A covariate: a column name, or a (numerator, denominator) pair forming a ratio covariate.
Covariate = str | tuple[str, str]

#: Relative residual variance below which a covariate counts as collinear with earlier ones.
COLLINEAR_TOL = 1e-9


class CupedStatus(StrEnum):
    """How many covariates a row could use."""

    OK = "ok"
    REDUCED = "reduced_covariates"
    NONE = "no_covariates"


@dataclass(frozen=True)
class CupedResult:
    """Adjusted and raw estimates per row, with θ and what the adjustment bought.

    ``theta`` and ``used`` are (rows, covariates); a dropped covariate has θ = 0.
    ``variance_reduction`` is 1 − Var(adjusted effect)/Var(raw effect), and
    ``equivalent_n`` the number of units an unadjusted analysis would need for the same
    precision (n / (1 − reduction)).
    """

    covariates: tuple[Covariate, ...]
    theta: FloatArray
    used: BoolArray
    status: npt.NDArray[np.str_]
    control: GroupStats
    variant: GroupStats
    raw_control: GroupStats
    raw_variant: GroupStats
    variance_reduction: FloatArray
    equivalent_n: FloatArray


@dataclass(frozen=True)
class CupedComparison:
    """An adjusted comparison next to the raw one, so a reader sees what CUPED changed."""

    adjustment: CupedResult
    adjusted: ComparisonResult
    raw: ComparisonResult


@dataclass(frozen=True)
class _Linear:
    """Per-group estimate, its linearization a, covariate estimates h and linearizations B."""

    est: FloatArray  # (G,)
    a: FloatArray  # (G, p)
    h: FloatArray  # (G, m)
    b: FloatArray  # (G, p, m)
    centred: FloatArray  # (G, p, p): Σ(z − z̄)(z − z̄)ᵀ
    raw: FloatArray  # (G, p, p): Σzzᵀ


def _linearize(
    m: Moments, kind: str, covariates: Sequence[Covariate], y: str, num: str, den: str
) -> _Linear:
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
    return _Linear(est, a, h, b, centred, np.asarray(m.cross))


def _quad(left: FloatArray, mat: FloatArray, right: FloatArray) -> FloatArray:
    """Batched leftᵀ·mat·right for (G, p, i), (G, p, p), (G, p, j) → (G, i, j)."""
    out: FloatArray = np.einsum("gpi,gpq,gqj->gij", left, mat, right)
    return out


def _select(cov: FloatArray, raw_diag: FloatArray, room: FloatArray, tol: float) -> BoolArray:
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


def _solve_masked(mat: FloatArray, rhs: FloatArray, keep: BoolArray) -> FloatArray:
    """θ solving mat·θ = rhs on the kept covariates of each row, 0 elsewhere."""
    k = mat.shape[1]
    both = keep[:, :, None] & keep[:, None, :]
    sub = np.where(both, mat, np.eye(k))
    r = np.where(keep, rhs, 0.0)
    theta: FloatArray = np.linalg.solve(sub, r[:, :, None])[:, :, 0]
    return np.where(keep, theta, 0.0)


def _default_covariates(m: Moments, kind: str, y: str, num: str, den: str) -> list[Covariate]:
    taken = {num, den} if kind == "ratio" else {y}
    return [name for name in m.names if name not in taken]


def adjust(
    control: Moments,
    variant: Moments,
    kind: str,
    *,
    covariates: Sequence[Covariate] | None = None,
    theta_from: str = "within",
    y: str = "y",
    num: str = "num",
    den: str = "den",
    tol: float = COLLINEAR_TOL,
) -> CupedResult:
    """CUPED-adjusted estimates of row i of ``control`` and ``variant``, for every row.

    ``covariates`` defaults to every column other than the metric's own (y, or num and
    den). A ``(num, den)`` pair is a ratio covariate, linearized by the delta method.
    """
    if kind not in KINDS:
        raise InputError(f"unknown metric kind {kind!r}: expected one of {', '.join(KINDS)}")
    if theta_from not in ("within", "total"):
        raise InputError(f"theta_from must be 'within' or 'total', got {theta_from!r}")
    if len(control) != len(variant):
        raise InputError(f"{len(variant)} variant rows for {len(control)} control rows")
    if control.names != variant.names:
        raise InputError(
            f"control columns {list(control.names)} differ from variant {list(variant.names)}"
        )
    covs = tuple(
        _default_covariates(control, kind, y, num, den) if covariates is None else covariates
    )
    for cov in covs:
        for name in (cov,) if isinstance(cov, str) else cov:
            control.col(name)
    k = len(covs)
    lc = _linearize(control, kind, covs, y, num, den)
    lv = _linearize(variant, kind, covs, y, num, den)
    pooled = Moments(control.labels, control.names, control.matrix + variant.matrix)
    lp = _linearize(pooled, kind, covs, y, num, den)

    if theta_from == "within":
        sbb = _quad(lc.b, lc.centred, lc.b) + _quad(lv.b, lv.centred, lv.b)
        sba = (
            _quad(lc.b, lc.centred, lc.a[:, :, None]) + _quad(lv.b, lv.centred, lv.a[:, :, None])
        )[:, :, 0]
        raw_diag = np.diagonal(_quad(lc.b, lc.raw, lc.b) + _quad(lv.b, lv.raw, lv.b), 0, 1, 2)
    else:
        sbb = _quad(lp.b, lp.centred, lp.b)
        sba = _quad(lp.b, lp.centred, lp.a[:, :, None])[:, :, 0]
        raw_diag = np.diagonal(_quad(lp.b, lp.raw, lp.b), 0, 1, 2)
    sbb = np.nan_to_num(sbb, nan=0.0, posinf=0.0, neginf=0.0)
    sba = np.nan_to_num(sba, nan=0.0, posinf=0.0, neginf=0.0)
    # OLS on both groups spends two degrees of freedom on the means
    room = control.n + variant.n - 3.0
    used = (
        _select(sbb, np.nan_to_num(raw_diag), room, tol) if k else np.zeros((len(control), 0), bool)
    )
    theta = _solve_masked(sbb, sba, used) if k else np.zeros((len(control), 0))

    ddof = 0.0 if kind == "proportion" else 1.0
    raw_c = summarize(control, kind, y=y, num=num, den=den)
    raw_v = summarize(variant, kind, y=y, num=num, den=den)
    adj_c = _adjusted(lc, lp, theta, control.n, ddof, raw_c)
    adj_v = _adjusted(lv, lp, theta, variant.n, ddof, raw_v)

    with np.errstate(invalid="ignore", divide="ignore"):
        reduction = 1.0 - (adj_c.var + adj_v.var) / (raw_c.var + raw_v.var)
        equivalent_n = (control.n + variant.n) / (1.0 - reduction)
    n_used = used.sum(axis=1)
    status = np.where(
        n_used == k,
        CupedStatus.OK.value,
        np.where(n_used == 0, CupedStatus.NONE.value, CupedStatus.REDUCED.value),
    )
    if k == 0:
        status = np.full(len(control), CupedStatus.NONE.value)
    return CupedResult(
        covariates=covs,
        theta=theta,
        used=used,
        status=status.astype(str),
        control=adj_c,
        variant=adj_v,
        raw_control=raw_c,
        raw_variant=raw_v,
        variance_reduction=reduction,
        equivalent_n=equivalent_n,
    )


def _adjusted(
    lin: _Linear, pooled: _Linear, theta: FloatArray, n: FloatArray, ddof: float, raw: GroupStats
) -> GroupStats:
    """Shifted estimate and residual variance of one side of the comparison."""
    shift = np.sum(theta * np.nan_to_num(lin.h - pooled.h), axis=1)
    resid = lin.a - np.einsum("gpm,gm->gp", lin.b, theta)
    with np.errstate(invalid="ignore", divide="ignore"):
        ss = np.einsum("gp,gpq,gq->g", resid, lin.centred, resid)
        unit_var = np.maximum(ss / (n - ddof), 0.0)
        # no covariate used: keep the unadjusted numbers bit for bit
        none = ~np.any(theta != 0, axis=1)
        unit_var = np.where(none, raw.unit_var, unit_var)
        mean = np.where(none, raw.mean, lin.est - shift)
        return GroupStats(n, mean, unit_var, unit_var / n)


def compare_cuped(
    control: Moments,
    variant: Moments,
    kind: str,
    *,
    covariates: Sequence[Covariate] | None = None,
    theta_from: str = "within",
    alpha: float = 0.05,
    alternative: str = "two-sided",
    margin: float | None = None,
    relative_margin: bool = False,
    y: str = "y",
    num: str = "num",
    den: str = "den",
) -> CupedComparison:
    """Tests and intervals on CUPED-adjusted estimates, beside the unadjusted ones."""
    adj = adjust(
        control, variant, kind, covariates=covariates, theta_from=theta_from, y=y, num=num, den=den
    )
    zero_den = None
    if kind == "ratio":
        zero_den = (control.sum(den) == 0) | (variant.sum(den) == 0)
    adjusted = compare_stats(
        adj.control,
        adj.variant,
        alpha=alpha,
        alternative=alternative,
        margin=margin,
        relative_margin=relative_margin,
        df=welch_df(adj.control, adj.variant) if kind == "mean" else None,
        cohens=kind == "mean",
        zero_denominator=zero_den,
    )
    raw = compare(
        control,
        variant,
        kind,
        alpha=alpha,
        alternative=alternative,
        margin=margin,
        relative_margin=relative_margin,
        y=y,
        num=num,
        den=den,
    )
    return CupedComparison(adj, adjusted, raw)
