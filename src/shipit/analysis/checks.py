"""Trust checks and the daily view of an analysis, from the moments already computed.

SRM overall and located by segment and day, exposure integrity from the sanity counts,
pre-period balance of the covariates as A/A tests, Simpson's paradox on the first segment
dimension, novelty from the daily effects, and power against the plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from shipit.analysis.effects import pair_rows, row_stats
from shipit.analysis.policy import direction
from shipit.analysis.sequential import cumulative_bounds
from shipit.decide.build import estimate_from
from shipit.decide.power import power_check, power_info
from shipit.decide.trust import (
    balance_check,
    effect_increments,
    exposure_checks,
    novelty_check,
    simpson_check,
    srm_check,
    srm_locate,
)
from shipit.metrics.kinds import kind_of
from shipit.metrics.summary import GroupKey, MetricMoments
from shipit.result.model import DailyEffect, Effect, PowerInfo, SegmentEffect, TrustCheck
from shipit.spec.experiment import Experiment
from shipit.spec.metric import MetricDef
from shipit.stats.moments import Moments

__all__ = ["daily_effects", "power_of_primary", "trust_checks"]


def _counts(mm: MetricMoments, keys: Sequence[Sequence[GroupKey]]) -> np.ndarray:
    """Units per group: rows are cells, columns variants (0 where a group is absent)."""
    return np.array([mm.units(row) for row in keys]).reshape(len(keys), -1)


def daily_effects(
    by_day: MetricMoments | None,
    metric: MetricDef,
    control: str,
    others: Sequence[str],
    exp: Experiment,
) -> tuple[list[DailyEffect], TrustCheck | None]:
    """Cumulative effect per day (sequential bounds when the plan is sequential) and novelty.

    Novelty reads per-day effects recovered from the cumulative ones (``effect_increments``):
    under a constant effect each is unbiased for it, so a trend among them flags a change.
    """
    if by_day is None:
        return [], None
    days = by_day.days
    if not days:
        return [], None
    pairs = [(d, v) for v in others for d in days]
    c, v = pair_rows(
        by_day,
        metric,
        [GroupKey(control, day=d) for d, _ in pairs],
        [GroupKey(x, day=d) for d, x in pairs],
    )
    rs = row_stats(c, v, metric, exp.analysis, higher_is_better=direction(exp, metric), bayes=False)
    best = rs.best
    rel = np.asarray(best.rel_effect, dtype=np.float64)
    se = np.asarray(best.rel_se, dtype=np.float64)
    low = high = np.full(rel.shape, np.nan)
    if exp.analysis.method == "sequential":
        low, high = np.full(rel.shape, np.nan), np.full(rel.shape, np.nan)
        nd = len(days)
        for k in range(len(others)):  # each variant's days are the looks of its comparison
            sl = slice(k * nd, (k + 1) * nd)
            nc, nv = best.n_control[sl], best.n_variant[sl]
            b = cumulative_bounds(rel[sl], se[sl], nc, nv, exp.analysis)
            low[sl], high[sl] = b.low, b.high
    out = [
        DailyEffect(
            day=i % len(days),
            date=d,
            metric=metric.name,
            variant=x,
            n_control=int(best.n_control[i]),
            n_variant=int(best.n_variant[i]),
            estimate=estimate_from(best, i),
            bound_low=low[i],
            bound_high=high[i],
        )
        for i, (d, x) in enumerate(pairs)
    ]
    first = slice(0, len(days))
    inc, inc_se = effect_increments(rel[first], se[first])
    return out, novelty_check(np.arange(len(days)), inc, inc_se)


def _balance(exp: Experiment, overall: MetricMoments, metric: MetricDef) -> list[TrustCheck]:
    """Pre-period covariates of the primary compared across arms (A/A tests)."""
    kind = kind_of(metric)
    m = overall[metric.name]
    if not kind.supports_cuped or not isinstance(m, Moments):
        return []
    base = len(kind.value_columns(metric))
    names = [c.column or c.name for c in metric.covariates]
    if len(m.names) <= base or len(names) != len(m.names) - base:
        return []
    renamed = Moments(m.labels, (*m.names[:base], *names), m.matrix)
    control = exp.control_variant
    out = []
    others = [v for v in exp.variant_keys if v != control]

    def group(variant: str) -> Moments:
        return renamed.take(overall.rows([GroupKey(variant)]))

    for k, v in enumerate(others):
        check = balance_check(
            group(control), group(v), names, adjusted=exp.analysis.cuped, arms=(control, v)
        )
        if k:
            check = check.model_copy(update={"name": f"balance_{v}"})
        out.append(check)
    return out


def _simpson(exp: Experiment, mm: MetricMoments, metric: MetricDef) -> TrustCheck | None:
    """Simpson's paradox for the first variant across one dimension's segments."""
    cells = mm.segments
    control = exp.control_variant
    variant = next(v for v in exp.variant_keys if v != control)
    if len(cells) < 2:
        return None
    c, v = pair_rows(
        mm,
        metric,
        [GroupKey(control, segment=s) for s in cells],
        [GroupKey(variant, segment=s) for s in cells],
    )
    kind = kind_of(metric)
    gc, gv = kind.group_stats(c), kind.group_stats(v)
    if not (np.all(gc.n > 0) and np.all(gv.n > 0)):
        return None
    return simpson_check(
        cells, gc.n, gv.n, gc.mean, gv.mean, var_control=gc.var, var_variant=gv.var
    )


def trust_checks(
    exp: Experiment,
    overall: MetricMoments,
    by_segment: Mapping[str, MetricMoments],
    by_day: MetricMoments | None,
    counts: Mapping[str, int],
    effects: Sequence[Effect],
    segments: Sequence[SegmentEffect],
    novelty: TrustCheck | None,
) -> list[TrustCheck]:
    """Every trust check the moments allow, in reading order."""
    variants = list(exp.variant_keys)
    weights = dict(zip(variants, exp.weights, strict=True))
    w = [weights[v] for v in variants]
    threshold = exp.analysis.srm_threshold
    out = [srm_check(counts, weights, threshold=threshold)]
    for dim, mm in by_segment.items():
        cells = mm.segments
        if cells:
            keys = [[GroupKey(v, segment=s) for v in variants] for s in cells]
            out.append(
                srm_locate(f"srm_by_{dim}", cells, _counts(mm, keys), w, threshold=threshold)
            )
    if by_day is not None:
        days = by_day.days
        if days:
            cumulative = _counts(by_day, [[GroupKey(v, day=d) for v in variants] for d in days])
            new = np.diff(np.vstack([np.zeros(len(variants)), cumulative]), axis=0)
            out.append(srm_locate("srm_by_day", days, np.maximum(new, 0.0), w, threshold=threshold))
    total = sum(counts.values())
    out += exposure_checks(total, overall.multi_variant_units, overall.pre_phase_exposures)
    primary = exp.metric(exp.primary_metric or effects[0].metric)
    out += _balance(exp, overall, primary)
    for mm in list(by_segment.values())[:1]:
        simpson = _simpson(exp, mm, primary)
        if simpson is not None:
            out.append(simpson)
    if novelty is not None:
        out.append(novelty)
    return out


def power_of_primary(
    exp: Experiment,
    overall: MetricMoments,
    by_day: MetricMoments | None,
    effects: Sequence[Effect],
    planned: int | None,
) -> tuple[list[PowerInfo], list[TrustCheck]]:
    """Power of the primary at the plan's MDE, with the sd backed out of its standard error."""
    plan = exp.analysis
    primary = exp.primary_metric or effects[0].metric
    rows = [e for e in effects if e.metric == primary]
    if plan.mde is None or not rows:
        return [], []
    e = rows[0]
    best = e.best
    if best.abs_se is None or e.n_control <= 0 or e.n_variant <= 0 or best.abs_se <= 0:
        return [], []
    sd = best.abs_se / float(np.sqrt(1.0 / e.n_control + 1.0 / e.n_variant))
    n = min(e.n_control, e.n_variant)
    ndays = len(by_day.days) if by_day is not None else 0
    baseline = e.mean_control
    if plan.mde_relative and (baseline is None or baseline == 0):
        return [], []
    info = power_info(
        primary,
        sd=sd,
        n=n,
        mde=plan.mde,
        baseline=baseline,
        relative=plan.mde_relative,
        alpha=plan.alpha,
        power=plan.power,
        planned_n=planned,
        units_per_day=n / ndays if ndays else None,
    )
    return [info], [power_check(info)]
