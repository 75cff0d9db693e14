"""The stats a plan asks for, vectorized over (variant, cell) rows of one metric's Moments.

Rows pair the control's group with each variant's group in the same cell (overall, a
segment or a day): raw comparisons, CUPED beside them when the metric has covariates,
the Normal posterior for Bayesian plans (sequential bounds: ``analysis.sequential``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipit.spec.metric import MetricDef
from shipit.spec.plan import AnalysisPlan
from shipit.stats.bayesian import NormalComparison, NormalPrior, compare_normal
from shipit.stats.cuped import compare_cuped
from shipit.stats.estimands import summarize
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments
from shipit.stats.results import ComparisonResult

__all__ = ["SPENDING", "RowStats", "pair_rows", "row_stats", "stats_kind"]

# The spec's spending names as the stats package spells them.
SPENDING = {"obrien_fleming": "obf", "pocock": "pocock"}


def stats_kind(metric: MetricDef) -> str:
    """The estimand kind for stats: the spec's proportion/mean/ratio."""
    return metric.kind


def has_covariates(m: Moments, metric: MetricDef) -> bool:
    """Whether the computed moments carry covariate columns beyond y or num/den."""
    base = 2 if metric.kind == "ratio" else 1
    return len(m.names) > base


def pair_rows(
    m: Moments, control: Sequence[str], variant: Sequence[str]
) -> tuple[Moments, Moments]:
    """Control and variant Moments whose row i compares ``control[i]`` with ``variant[i]``."""
    index = {label: i for i, label in enumerate(m.labels)}
    tags = [f"{a}|{b}" for a, b in zip(control, variant, strict=True)]
    rows_c = [index[label] for label in control]
    rows_v = [index[label] for label in variant]
    return (
        Moments(tuple(f"c:{t}" for t in tags), m.names, m.matrix[rows_c]),
        Moments(tuple(f"v:{t}" for t in tags), m.names, m.matrix[rows_v]),
    )


@dataclass(frozen=True)
class RowStats:
    """Everything computed for a set of rows: raw, adjusted (CUPED) and the posterior."""

    raw: ComparisonResult
    adjusted: ComparisonResult | None
    posterior: NormalComparison | None

    @property
    def best(self) -> ComparisonResult:
        """The comparison to act on: CUPED when present."""
        return self.adjusted if self.adjusted is not None else self.raw


def row_stats(
    c: Moments,
    v: Moments,
    metric: MetricDef,
    plan: AnalysisPlan,
    *,
    higher_is_better: bool,
    bayes: bool | None = None,
) -> RowStats:
    """Raw comparison of every row; CUPED when the plan and the moments allow; posterior."""
    kind = stats_kind(metric)
    raw = compare(c, v, kind, alpha=plan.alpha, alternative=plan.alternative)
    adjusted = None
    stats_c, stats_v = summarize(c, kind), summarize(v, kind)
    if plan.cuped and has_covariates(c, metric):
        cc = compare_cuped(c, v, kind, alpha=plan.alpha, alternative=plan.alternative)
        adjusted = cc.adjusted
        stats_c, stats_v = cc.adjustment.control, cc.adjustment.variant
    posterior = None
    if bayes if bayes is not None else plan.method == "bayesian":
        prior = plan.bayesian.prior
        normal = (
            NormalPrior(mean=prior.mean, sd=prior.sd)
            if prior.kind == "normal" and prior.sd is not None
            else NormalPrior()
        )
        posterior = compare_normal(
            stats_c,
            stats_v,
            prior=normal,
            scale="relative",
            level=1.0 - plan.alpha,
            higher_is_better=higher_is_better,
        )
    return RowStats(raw, adjusted, posterior)
