"""Frequentist comparisons of variant against control, vectorized over rows.

- proportion: two-proportion z-test with pooled variance for the p-value (as statsmodels'
  ``proportions_ztest``), unpooled Wald interval for the difference;
- mean: Welch's t-test and Welch–Satterthwaite interval (as scipy's
  ``ttest_ind_from_stats(equal_var=False)``);
- ratio: delta-method z-test and interval.

Relative effects use the delta method and the normal distribution. A non-inferiority
margin shifts the null of the one-sided test: for ``greater`` (higher is better) H0 is
effect ≤ −margin, for ``less`` (lower is better) H0 is effect ≥ +margin.
"""

from __future__ import annotations

from typing import get_args

import numpy as np
from scipy import stats as sps

from shipit._types import Alternative, FloatArray
from shipit.errors import InputError
from shipit.stats.estimands import (
    Effect,
    GroupStats,
    absolute_effect,
    relative_effect,
    summarize,
)
from shipit.stats.moments import Moments
from shipit.stats.results import ComparisonResult, Status

__all__ = ["compare", "compare_stats", "p_values", "welch_df"]

ALTERNATIVES: tuple[str, ...] = get_args(Alternative)


def compare(
    control: Moments,
    variant: Moments,
    kind: str,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    margin: float | None = None,
    relative_margin: bool = False,
    y: str = "y",
    num: str = "num",
    den: str = "den",
) -> ComparisonResult:
    """Compare row i of ``variant`` with row i of ``control`` for every row at once."""
    if len(control) != len(variant):
        raise InputError(f"{len(variant)} variant rows for {len(control)} control rows")
    c = summarize(control, kind, y=y, num=num, den=den)
    v = summarize(variant, kind, y=y, num=num, den=den)
    test_se: FloatArray | None = None
    if kind == "proportion" and margin is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            pooled = (control.sum(y) + variant.sum(y)) / (c.n + v.n)
            test_se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / c.n + 1.0 / v.n))
    degenerate_den = None
    if kind == "ratio":
        degenerate_den = (control.sum(den) == 0) | (variant.sum(den) == 0)
    return compare_stats(
        c,
        v,
        alpha=alpha,
        alternative=alternative,
        margin=margin,
        relative_margin=relative_margin,
        df=welch_df(c, v) if kind == "mean" else None,
        test_se=test_se,
        cohens=kind == "mean",
        zero_denominator=degenerate_den,
    )


def welch_df(c: GroupStats, v: GroupStats) -> FloatArray:
    """Welch–Satterthwaite degrees of freedom for the difference of two means."""
    with np.errstate(invalid="ignore", divide="ignore"):
        df: FloatArray = (c.var + v.var) ** 2 / (c.var**2 / (c.n - 1.0) + v.var**2 / (v.n - 1.0))
    return df


def compare_stats(
    c: GroupStats,
    v: GroupStats,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    margin: float | None = None,
    relative_margin: bool = False,
    df: FloatArray | None = None,
    test_se: FloatArray | None = None,
    cohens: bool = False,
    zero_denominator: FloatArray | None = None,
    relative_se: FloatArray | None = None,
    relative_df: FloatArray | None = None,
) -> ComparisonResult:
    """Tests and intervals from per-group estimates (raw or CUPED-adjusted).

    ``df`` (per row) switches the absolute test to Student's t; ``test_se`` replaces the
    standard error of the absolute test statistic (the pooled one for proportions).
    ``relative_se`` replaces the delta-method standard error of independent groups (CUPED's
    adjusted means are correlated) and ``relative_df`` gives the relative interval t bounds.
    """
    _check_args(alpha, alternative, margin)
    rows = len(c.n)
    abs_eff = absolute_effect(c, v)
    rel_eff = relative_effect(c, v)
    if relative_se is not None:
        rel_eff = Effect(rel_eff.estimate, np.array(relative_se, dtype=np.float64))
    dof = np.full(rows, np.inf) if df is None else np.asarray(df, dtype=np.float64)
    rel_dof = np.full(rows, np.inf) if relative_df is None else np.asarray(relative_df, np.float64)

    level = alpha if alternative == "two-sided" else 2.0 * alpha
    with np.errstate(invalid="ignore", divide="ignore"):
        q_abs = np.where(np.isfinite(dof), sps.t.ppf(1.0 - level / 2.0, dof), 0.0)
        q_abs = np.where(np.isfinite(dof), q_abs, sps.norm.ppf(1.0 - level / 2.0))
        q_rel = np.where(np.isfinite(rel_dof), sps.t.ppf(1.0 - level / 2.0, rel_dof), 0.0)
        q_rel = np.where(np.isfinite(rel_dof), q_rel, sps.norm.ppf(1.0 - level / 2.0))
        abs_lo = abs_eff.estimate - q_abs * abs_eff.se
        abs_hi = abs_eff.estimate + q_abs * abs_eff.se
        rel_lo = rel_eff.estimate - q_rel * rel_eff.se
        rel_hi = rel_eff.estimate + q_rel * rel_eff.se

        if margin is not None and relative_margin:
            shift = -margin if alternative == "greater" else margin
            stat = (rel_eff.estimate - shift) / rel_eff.se
            stat_df = rel_dof
        else:
            shift = 0.0 if margin is None else (-margin if alternative == "greater" else margin)
            se = abs_eff.se if test_se is None else test_se
            stat = (abs_eff.estimate - shift) / se
            stat_df = dof
        p = p_values(stat, stat_df, alternative)

        d = np.full(rows, np.nan)
        if cohens:
            pooled_sd = np.sqrt(
                ((c.n - 1.0) * c.unit_var + (v.n - 1.0) * v.unit_var) / (c.n + v.n - 2.0)
            )
            d = abs_eff.estimate / pooled_sd

    status = np.full(rows, Status.OK.value, dtype=object)
    zero_mean = c.mean == 0
    status[zero_mean] = Status.ZERO_CONTROL_MEAN.value
    for arr in (rel_eff.estimate, rel_eff.se, rel_lo, rel_hi):
        arr[zero_mean] = np.nan
    test_se_used = abs_eff.se if test_se is None else test_se
    no_var = ~(test_se_used > 0)
    # The pooled test can have variance where the interval's own se is 0 (0/n against
    # n/n): the test stands, but a zero-width interval would be passed off as a result.
    flat_ci = ~(abs_eff.se > 0) & ~no_var
    status[no_var | flat_ci] = Status.ZERO_VARIANCE.value
    for arr in (abs_lo, abs_hi, rel_lo, rel_hi):
        arr[flat_ci] = np.nan
    if zero_denominator is not None:
        status[np.asarray(zero_denominator, dtype=bool)] = Status.ZERO_DENOMINATOR.value
    few = (c.n < 2) | (v.n < 2)
    status[few] = Status.TOO_FEW_UNITS.value

    bad = no_var | few
    if zero_denominator is not None:
        bad |= np.asarray(zero_denominator, dtype=bool)
    for arr in (stat, p, abs_lo, abs_hi, rel_lo, rel_hi, d):
        arr[bad] = np.nan
    if margin is not None and relative_margin:
        p[zero_mean] = np.nan
    rel_se = rel_eff.se.copy()
    rel_se[bad] = np.nan
    abs_se = abs_eff.se.copy()
    abs_se[few] = np.nan

    return ComparisonResult(
        n_control=c.n,
        n_variant=v.n,
        mean_control=c.mean,
        mean_variant=v.mean,
        abs_effect=abs_eff.estimate,
        abs_se=abs_se,
        abs_ci_low=abs_lo,
        abs_ci_high=abs_hi,
        rel_effect=rel_eff.estimate,
        rel_se=rel_se,
        rel_ci_low=rel_lo,
        rel_ci_high=rel_hi,
        statistic=stat,
        df=stat_df,
        p_value=p,
        cohens_d=d,
        status=status.astype(str),
    )


def p_values(stat: FloatArray, df: FloatArray, alternative: str) -> FloatArray:
    """p-values of z (df = inf) or t statistics for an alternative, row by row."""
    finite = np.isfinite(df)
    safe_df = np.where(finite, df, 1.0)
    with np.errstate(invalid="ignore"):
        if alternative == "two-sided":
            z = 2.0 * sps.norm.sf(np.abs(stat))
            t = 2.0 * sps.t.sf(np.abs(stat), safe_df)
        elif alternative == "greater":
            z = sps.norm.sf(stat)
            t = sps.t.sf(stat, safe_df)
        else:
            z = sps.norm.cdf(stat)
            t = sps.t.cdf(stat, safe_df)
    out: FloatArray = np.where(finite, t, z)
    return out


def _check_args(alpha: float, alternative: str, margin: float | None) -> None:
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be between 0 and 1, got {alpha}")
    if alternative not in ALTERNATIVES:
        raise InputError(f"alternative {alternative!r} is not one of {', '.join(ALTERNATIVES)}")
    if margin is not None:
        if alternative == "two-sided":
            raise InputError(
                "a non-inferiority margin needs a one-sided alternative ('greater' or 'less')"
            )
        if margin < 0:
            raise InputError(f"margin must be ≥ 0, got {margin}")
