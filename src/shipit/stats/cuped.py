"""CUPED regression adjustment with k pre-period covariates, from Moments only.

Every estimand (a mean, a proportion or a ratio) and every covariate (a column mean, or a
ratio of two columns) is linearized as a·z per unit, with z the columns of the Moments.
From the centred cross products of z per group, θ solves the normal equations of the
metric's linearization on the covariates' ones over the two groups compared:

- ``theta_from="min_variance"`` (default): each group's cross products weighted by
  1/(n_g(n_g − 1)), the θ that minimises the estimated variance of the effect. With equal
  group sizes it is the OLS θ; with unequal sizes and slopes it leans on the smaller group,
  as the interacted regression of Lin (2013) does, and is not worse than no adjustment.
  Rows where it would leave a group fewer than ``MIN_GROUP_DOF`` residual degrees of
  freedom use the OLS θ instead;
- ``theta_from="within"``: group-centred sums, exactly the OLS of y on
  [1, treatment, x − x̄] for means;
- ``theta_from="total"``: the pooled pair as one sample (GrowthBook's convention).

Each group's estimate is then shifted by −θ·(h_g − h̄), h the covariate estimates and h̄
their pooled value. Variances count the fitted slopes (degrees of freedom and Var(θ̂)) and,
for the relative effect, that both adjusted means move with h̄: see ``_cuped_variance``.
For means the absolute interval is then OLS's (y ~ treatment + centred covariates) when
both groups have the same residual variance, and Welch-like (Satterthwaite) otherwise.
Covariates that are (nearly) collinear with earlier ones, or constant, are dropped row by
row; the row says so in ``status`` rather than raising.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from shipit._types import BoolArray, FloatArray
from shipit.errors import InputError
from shipit.stats._cuped_solve import Covariate, Linear, inverse_masked, linearize, quad, select
from shipit.stats._cuped_variance import CupedVariance, cuped_variance
from shipit.stats.estimands import KINDS, Effect, GroupStats, relative_effect, summarize
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


#: Relative residual variance below which a covariate counts as collinear with earlier ones.
COLLINEAR_TOL = 1e-9
#: Where θ is fitted from (see the module docstring).
THETA_FROM = ("min_variance", "within", "total")
#: Residual degrees of freedom each group keeps under the variance-minimising θ, else OLS's.
MIN_GROUP_DOF = 10.0


class CupedStatus(StrEnum):
    """How many covariates a row could use."""

    OK = "ok"
    REDUCED = "reduced_covariates"
    NONE = "no_covariates"


@dataclass(frozen=True)
class CupedResult:
    """Adjusted and raw estimates per row, with θ and what the adjustment bought.

    ``theta`` and ``used`` are (rows, covariates); a dropped covariate has θ = 0.
    In ``control`` and ``variant``, ``unit_var`` is the residual variance σ̂² (on its degrees
    of freedom) and ``var`` the group's share of Var(absolute effect), σ̂²/n plus its part
    of the variance of θ̂, so that variances of the two groups add up to the effect's.
    ``absolute`` and ``relative`` are the adjusted effects with their standard errors
    (the relative one allows for the correlation of the adjusted means); ``df`` and
    ``relative_df`` their Satterthwaite degrees of freedom. ``variance_reduction`` is
    1 − Var(adjusted effect)/Var(raw effect), and ``equivalent_n`` the number of units an
    unadjusted analysis would need for the same precision (n / (1 − reduction)).
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
    absolute: Effect
    relative: Effect
    df: FloatArray
    relative_df: FloatArray


@dataclass(frozen=True)
class CupedComparison:
    """An adjusted comparison next to the raw one, so a reader sees what CUPED changed."""

    adjustment: CupedResult
    adjusted: ComparisonResult
    raw: ComparisonResult


def _default_covariates(m: Moments, kind: str, y: str, num: str, den: str) -> list[Covariate]:
    taken = {num, den} if kind == "ratio" else {y}
    return [name for name in m.names if name not in taken]


def adjust(
    control: Moments,
    variant: Moments,
    kind: str,
    *,
    covariates: Sequence[Covariate] | None = None,
    theta_from: str = "min_variance",
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
    if theta_from not in THETA_FROM:
        raise InputError(f"theta_from must be one of {', '.join(THETA_FROM)}, got {theta_from!r}")
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
    lc = linearize(control, kind, covs, y, num, den)
    lv = linearize(variant, kind, covs, y, num, den)
    pooled = Moments(control.labels, control.names, control.matrix + variant.matrix)
    lp = linearize(pooled, kind, covs, y, num, den)
    ddof = 0.0 if kind == "proportion" else 1.0
    lam = _weights(control.n, variant.n, ddof, theta_from)

    rows = len(control)
    n = (control.n, variant.n)
    fit = _fit(lc, lv, lp, lam, n, ddof, total=theta_from == "total", tol=tol)
    if theta_from == "min_variance" and k:
        # a group with few units for its covariates would have its residuals fitted away
        # (and their variance with them): there, OLS's θ spreads the slopes over both groups
        keep = np.minimum(fit.var.nu[0], fit.var.nu[1]) >= MIN_GROUP_DOF
        if not np.all(keep):
            ones = _weights(n[0], n[1], ddof, "within")
            fit = _choose(keep, fit, _fit(lc, lv, lp, ones, n, ddof, total=False, tol=tol))
    theta, used, var, mean_c, mean_v = fit.theta, fit.used, fit.var, fit.mean_c, fit.mean_v
    raw_c = summarize(control, kind, y=y, num=num, den=den)
    raw_v = summarize(variant, kind, y=y, num=num, den=den)
    # no covariate used: keep the unadjusted numbers bit for bit
    none = ~np.any(theta != 0, axis=1)
    adj_c = _stats(none, raw_c, mean_c, var.sigma2[0], var.abs_var[0])
    adj_v = _stats(none, raw_v, mean_v, var.sigma2[1], var.abs_var[1])
    raw_rel = relative_effect(raw_c, raw_v)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_est = adj_v.mean / adj_c.mean - 1.0
        rel_se = np.where(none, raw_rel.se, np.sqrt(var.rel_var))
        welch = welch_df(raw_c, raw_v)
        reduction = 1.0 - (adj_c.var + adj_v.var) / (raw_c.var + raw_v.var)
        equivalent_n = (control.n + variant.n) / (1.0 - reduction)
    df = np.where(none, welch, var.abs_df)
    rel_df = np.where(none, welch, var.rel_df)
    if kind != "mean":
        df = rel_df = np.full(rows, np.inf)
    n_used = used.sum(axis=1)
    status = np.where(
        n_used == k,
        CupedStatus.OK.value,
        np.where(n_used == 0, CupedStatus.NONE.value, CupedStatus.REDUCED.value),
    )
    if k == 0:
        status = np.full(rows, CupedStatus.NONE.value)
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
        absolute=Effect(adj_v.mean - adj_c.mean, np.sqrt(adj_c.var + adj_v.var)),
        relative=Effect(rel_est, rel_se),
        df=df,
        relative_df=rel_df,
    )


@dataclass(frozen=True)
class _Fit:
    """θ on the covariates used, the adjusted means and their variances."""

    theta: FloatArray
    used: BoolArray
    mean_c: FloatArray
    mean_v: FloatArray
    var: CupedVariance


def _fit(
    lc: Linear,
    lv: Linear,
    lp: Linear,
    lam: tuple[FloatArray, FloatArray],
    n: tuple[FloatArray, FloatArray],
    ddof: float,
    *,
    total: bool,
    tol: float,
) -> _Fit:
    """Solve the (λ-weighted) normal equations of θ row by row and derive the variances."""
    rows, k = lc.h.shape
    if total:
        sbb = quad(lp.b, lp.centred, lp.b)
        sba = quad(lp.b, lp.centred, lp.a[:, :, None])[:, :, 0]
        raw_diag = np.diagonal(quad(lp.b, lp.raw, lp.b), 0, 1, 2)
    else:
        wc, wv = lam[0][:, None, None], lam[1][:, None, None]
        sbb = wc * quad(lc.b, lc.centred, lc.b) + wv * quad(lv.b, lv.centred, lv.b)
        sba = (
            wc * quad(lc.b, lc.centred, lc.a[:, :, None])
            + wv * quad(lv.b, lv.centred, lv.a[:, :, None])
        )[:, :, 0]
        raw_diag = np.diagonal(
            wc * quad(lc.b, lc.raw, lc.b) + wv * quad(lv.b, lv.raw, lv.b), 0, 1, 2
        )
    sbb = np.nan_to_num(sbb, nan=0.0, posinf=0.0, neginf=0.0)
    sba = np.nan_to_num(sba, nan=0.0, posinf=0.0, neginf=0.0)
    # OLS on both groups spends two degrees of freedom on the means
    room = n[0] + n[1] - 3.0
    used = select(sbb, np.nan_to_num(raw_diag), room, tol) if k else np.zeros((rows, 0), bool)
    pinv = inverse_masked(sbb, used) if k else np.zeros((rows, 0, 0))
    theta = np.einsum("gij,gj->gi", pinv, sba) if k else np.zeros((rows, 0))
    mean_c = _shifted(lc, lp, theta)
    mean_v = _shifted(lv, lp, theta)
    var = cuped_variance(
        n=n,
        centred=(lc.centred, lv.centred),
        a=(lc.a, lv.a),
        b=(lc.b, lv.b),
        h=(lc.h, lv.h),
        means=(mean_c, mean_v),
        lam=lam,
        pooled_b=lp.b,
        pooled_h=lp.h,
        pinv=pinv,
        theta=theta,
        ddof=ddof,
    )
    return _Fit(theta, used, mean_c, mean_v, var)


def _choose(mask: BoolArray, a: _Fit, b: _Fit) -> _Fit:
    """Row by row, ``a`` where ``mask`` holds and ``b`` elsewhere."""

    def pick(x: FloatArray, y: FloatArray) -> FloatArray:
        m = mask.reshape(-1, *([1] * (x.ndim - 1)))
        out: FloatArray = np.where(m, x, y)
        return out

    Pair = tuple[FloatArray, FloatArray]

    def pair(x: Pair, y: Pair) -> Pair:
        return (pick(x[0], y[0]), pick(x[1], y[1]))

    va, vb = a.var, b.var
    var = CupedVariance(
        sigma2=pair(va.sigma2, vb.sigma2),
        nu=pair(va.nu, vb.nu),
        abs_var=pair(va.abs_var, vb.abs_var),
        abs_df=pick(va.abs_df, vb.abs_df),
        rel_var=pick(va.rel_var, vb.rel_var),
        rel_df=pick(va.rel_df, vb.rel_df),
    )
    used: BoolArray = np.where(mask[:, None], a.used, b.used)
    return _Fit(
        pick(a.theta, b.theta), used, pick(a.mean_c, b.mean_c), pick(a.mean_v, b.mean_v), var
    )


def _weights(
    n_c: FloatArray, n_v: FloatArray, ddof: float, theta_from: str
) -> tuple[FloatArray, FloatArray]:
    """λ_g weighting each group's cross products in the normal equations of θ."""
    if theta_from != "min_variance":
        return np.ones_like(n_c), np.ones_like(n_v)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Var(effect) = Σ_g Var(a·z − θ·B·z)/n_g with the n_g − ddof variance of each group
        lam = tuple(np.where(n > ddof, 1.0 / (n * (n - ddof)), 0.0) for n in (n_c, n_v))
    return lam[0], lam[1]


def _shifted(lin: Linear, pooled: Linear, theta: FloatArray) -> FloatArray:
    """est_g − θ·(h_g − h̄): the group's estimate at the pooled covariate value."""
    out: FloatArray = lin.est - np.sum(theta * np.nan_to_num(lin.h - pooled.h), axis=1)
    return out


def _stats(
    none: BoolArray, raw: GroupStats, mean: FloatArray, sigma2: FloatArray, var: FloatArray
) -> GroupStats:
    """The adjusted group, or the raw one where no covariate was used."""
    return GroupStats(
        raw.n,
        np.where(none, raw.mean, mean),
        np.where(none, raw.unit_var, sigma2),
        np.where(none, raw.var, var),
    )


def compare_cuped(
    control: Moments,
    variant: Moments,
    kind: str,
    *,
    covariates: Sequence[Covariate] | None = None,
    theta_from: str = "min_variance",
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
        df=adj.df if kind == "mean" else None,
        relative_se=adj.relative.se,
        relative_df=adj.relative_df if kind == "mean" else None,
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
