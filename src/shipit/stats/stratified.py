"""Stratified (post-stratified) difference estimator from per-stratum moments.

τ̂ = Σ_s w_s (ȳ_t,s − ȳ_c,s) with w_s the stratum's share of all units, and
Var(τ̂) = Σ_s w_s² (Var ȳ_t,s + Var ȳ_c,s). With exact balance within strata (a stratified
or blocked design) this removes the between-strata variance from the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from shipit.errors import InputError
from shipit.stats.estimands import GroupStats, summarize
from shipit.stats.frequentist import compare_stats
from shipit.stats.moments import Moments
from shipit.stats.results import ComparisonResult

__all__ = ["StratifiedEffect", "compare_stratified", "compare_stratified_result"]


@dataclass(frozen=True)
class StratifiedEffect:
    """The stratified absolute effect with its standard error, interval and p-value."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    strata: int


def compare_stratified(
    control: Moments, variant: Moments, kind: str, *, alpha: float = 0.05
) -> StratifiedEffect:
    """Row s of ``control`` and ``variant`` are stratum s; strata with no units in one of
    the arms cannot be compared within and are an InputError."""
    c, v, w = _strata(control, variant, kind)
    estimate = float(np.sum(w * (v.mean - c.mean)))
    se = float(np.sqrt(np.sum(w**2 * (v.var + c.var))))
    z = sps.norm.ppf(1 - alpha / 2)
    p = float(2 * sps.norm.sf(abs(estimate) / se)) if se > 0 else float("nan")
    return StratifiedEffect(estimate, se, estimate - z * se, estimate + z * se, p, len(control))


def _stratified_means(
    control: Moments, variant: Moments, kind: str
) -> tuple[GroupStats, GroupStats]:
    """Each arm's stratum-weighted mean Σ w_s ȳ_s and its variance Σ w_s² Var ȳ_s."""
    c, v, w = _strata(control, variant, kind)

    def arm(g: GroupStats) -> GroupStats:
        n = np.array([np.sum(g.n)])
        var = np.array([np.sum(w**2 * g.var)])
        return GroupStats(n=n, mean=np.array([np.sum(w * g.mean)]), unit_var=var * n, var=var)

    return arm(c), arm(v)


def compare_stratified_result(
    control: Moments,
    variant: Moments,
    kind: str,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> ComparisonResult:
    """The stratified comparison as one row of a ``ComparisonResult``: absolute effect and
    standard error as in ``compare_stratified``, the relative effect over the stratified
    control mean by the delta method (the two arms' units are disjoint, so independent)."""
    c, v = _stratified_means(control, variant, kind)
    return compare_stats(c, v, alpha=alpha, alternative=alternative)


def _strata(
    control: Moments, variant: Moments, kind: str
) -> tuple[GroupStats, GroupStats, np.ndarray]:
    """Both arms' per-stratum statistics and the strata's weights (their share of units);
    a stratum with fewer than 2 units in an arm is an InputError."""
    if len(control) != len(variant) or len(control) == 0:
        raise InputError(f"{len(variant)} variant strata for {len(control)} control strata")
    c, v = summarize(control, kind), summarize(variant, kind)
    empty = np.flatnonzero((c.n < 2) | (v.n < 2))
    if empty.size:
        raise InputError(
            f"stratum {control.labels[int(empty[0])]!r} has fewer than 2 units in an arm: "
            "merge it with another stratum"
        )
    w = (c.n + v.n) / float(np.sum(c.n + v.n))
    return c, v, w
