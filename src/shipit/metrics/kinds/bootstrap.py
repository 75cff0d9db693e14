"""Bootstrap intervals (``interval: bootstrap``) for any kind: a Poisson bootstrap in the engine.

The kind wraps the metric's own kind (mean, proportion, ratio, quantile): the estimate,
its test and its p-value are that kind's; the intervals of the absolute and the relative
effect are the percentile intervals of the per-resample effects, and their standard
errors the resamples' standard deviations. The engine computes each group's estimate on
every resample (``bootstrap_sql``); control and variant resamples are independent (their
units differ). By day there are no resamples: the daily rows keep the kind's intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from shipit._types import FloatArray
from shipit.errors import InputError
from shipit.metrics.kinds.base import Comparison, SummarySource, UnitValue, kind_named, kind_of
from shipit.metrics.kinds.bootstrap_sql import BootstrapQuery
from shipit.metrics.kinds.own import SummaryKind
from shipit.metrics.summary import GroupKey, Summary
from shipit.spec.metric import MetricDef
from shipit.stats.estimands import GroupStats
from shipit.stats.results import ComparisonResult

__all__ = [
    "BOOTSTRAP",
    "BootstrapKind",
    "BootstrapSummary",
    "bootstrap_p_value",
    "percentile_effects",
]


@dataclass(frozen=True)
class BootstrapSummary:
    """The metric's own summary, plus each group's estimate on every resample (groups ×
    resamples; None by day)."""

    base: Summary
    base_kind: str
    groups: tuple[GroupKey, ...]
    resamples: FloatArray | None
    sql: str = ""

    @property
    def n(self) -> FloatArray:
        """Units per group (the base summary's)."""
        return self.base.n

    def __len__(self) -> int:
        return len(self.base)


def _base_metric(metric: MetricDef) -> MetricDef:
    return metric.model_copy(update={"interval": "default"})


class BootstrapKind(SummaryKind[BootstrapSummary]):
    """``interval: bootstrap``: the metric's kind with percentile bootstrap intervals (no
    CUPED: the spec refuses covariates with a bootstrap interval)."""

    name = "bootstrap"
    summary_type = BootstrapSummary

    def unit_values(self, metric: MetricDef) -> tuple[tuple[str, UnitValue], ...]:
        """The metric's own kind's values in the shared moments query."""
        return kind_of(_base_metric(metric)).unit_values(metric)

    def value_columns(self, metric: MetricDef) -> tuple[str, ...]:
        """The metric's own kind's columns."""
        return kind_of(_base_metric(metric)).value_columns(metric)

    def summarize(self, source: SummarySource, metrics: Sequence[MetricDef]) -> dict[str, Summary]:
        """The base summaries, and one resample query per metric (none by day)."""
        out: dict[str, Summary] = {}
        for m in metrics:
            base = _base_metric(m)
            kind = kind_of(base)
            summary = kind.summarize(source, [base])[m.name]
            resamples, sql = None, ""
            if not source.request.day:
                query = BootstrapQuery(source.request, m, source.engine.capabilities)
                sql = query.sql()
                resamples = _resamples(source.query(sql), query.keys, source.groups, m.resamples)
            out[m.name] = BootstrapSummary(summary, kind.name, source.groups, resamples, sql)
        return out

    def pair(
        self, summary: Summary, control: Sequence[int], variant: Sequence[int]
    ) -> tuple[Summary, Summary]:
        """The base summaries' pairs, and the resample rows of the same groups."""
        s = self.checked(summary)
        c, v = kind_named(s.base_kind).pair(s.base, control, variant)
        r = s.resamples

        def side(base: Summary, rows: Sequence[int]) -> BootstrapSummary:
            return replace(
                s,
                base=base,
                groups=tuple(s.groups[i] for i in rows),
                resamples=None if r is None else r[list(rows)],
            )

        return side(c, control), side(v, variant)

    def stats(self, summary: BootstrapSummary) -> GroupStats:
        """The base kind's estimates and variances."""
        return kind_named(summary.base_kind).group_stats(summary.base)

    def compare_summaries(
        self,
        control: BootstrapSummary,
        variant: BootstrapSummary,
        *,
        alpha: float,
        alternative: str,
    ) -> Comparison:
        """The base kind's comparison with bootstrap percentile intervals."""
        c, v = control, variant
        base = kind_named(c.base_kind).compare(
            c.base, v.base, alpha=alpha, alternative=alternative, cuped=False
        )
        if c.resamples is None or v.resamples is None:
            return base
        raw = percentile_effects(
            base.raw, c.resamples, v.resamples, alpha=alpha, alternative=alternative
        )
        p = bootstrap_p_value(v.resamples - c.resamples, alternative=alternative)
        return replace(base, raw=raw, adjusted=None, bootstrap_p_value=p)


BOOTSTRAP = BootstrapKind()


def percentile_effects(
    result: ComparisonResult,
    control: FloatArray,
    variant: FloatArray,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> ComparisonResult:
    """``result`` with the percentile intervals and standard deviations of the resampled
    effects (rows × resamples): variant − control and variant / control − 1. One-sided
    tests get the 1 − 2α interval, as every other interval here."""
    level = 1.0 - alpha if alternative == "two-sided" else 1.0 - 2.0 * alpha
    lo_q, hi_q = 100.0 * (1.0 - level) / 2.0, 100.0 * (1.0 + level) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        absolute = variant - control
        relative = np.where(control != 0, variant / control - 1.0, np.nan)

    def band(x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        ok = np.isfinite(x).all(axis=1)
        lo = np.full(len(x), np.nan)
        hi = np.full(len(x), np.nan)
        sd = np.full(len(x), np.nan)
        if ok.any():
            lo[ok], hi[ok] = np.percentile(x[ok], [lo_q, hi_q], axis=1)
            sd[ok] = np.std(x[ok], axis=1, ddof=1)
        return lo, hi, sd

    a_lo, a_hi, a_sd = band(absolute)
    r_lo, r_hi, r_sd = band(relative)
    return replace(
        result,
        abs_ci_low=a_lo,
        abs_ci_high=a_hi,
        abs_se=a_sd,
        rel_ci_low=r_lo,
        rel_ci_high=r_hi,
        rel_se=r_sd,
    )


def bootstrap_p_value(effects: FloatArray, *, alternative: str = "two-sided") -> FloatArray:
    """Per row of resampled effects (rows × resamples), the share of them on the far side
    of zero: P*(δ* ≤ 0) against "greater", P*(δ* ≥ 0) against "less", and two-sided twice
    the smaller of the two (at most 1). NaN for a row with a resample missing. It is the
    smallest α whose percentile interval stops covering zero, up to the 1/B grid."""
    x = np.asarray(effects, dtype=np.float64)
    ok = np.isfinite(x).all(axis=1)
    out = np.full(len(x), np.nan)
    if not ok.any():
        return out
    below = np.mean(x[ok] <= 0.0, axis=1)
    above = np.mean(x[ok] >= 0.0, axis=1)
    if alternative == "greater":
        out[ok] = below
    elif alternative == "less":
        out[ok] = above
    elif alternative == "two-sided":
        out[ok] = np.minimum(1.0, 2.0 * np.minimum(below, above))
    else:
        raise InputError(f"alternative must be two-sided, greater or less, not {alternative!r}")
    return out


def _resamples(
    raw: dict[str, list[Any]], keys: Sequence[str], groups: Sequence[GroupKey], b: int
) -> FloatArray:
    """The groups × resamples matrix of estimates (NaN where a resample has no data).

    The engine's sums are exact (integers: fixed-point values times integer weights), so
    the same seed gives the same matrix to the last bit, whatever the order of summation."""
    where = {g: i for i, g in enumerate(groups)}
    out = np.full((len(groups), b), np.nan)
    for i in range(len(raw["b"])):
        g = GroupKey.of_row(raw, keys, i)
        est = raw["est"][i]
        if g in where and est is not None:
            out[where[g], int(raw["b"][i])] = float(est)
    return out
