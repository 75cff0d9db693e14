"""The stats a plan asks for, vectorized over (variant, cell) rows of one metric's summary.

Rows pair the control's group with each variant's group in the same cell (overall, a
segment or a day), looked up by ``GroupKey``; the metric's kind compares them (raw, CUPED
beside it when the metric has covariates); the Normal posterior for Bayesian plans, and
the sequential bounds live in ``analysis.sequential``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipit._types import FloatArray
from shipit.metrics.kinds import kind_of
from shipit.metrics.summary import GroupKey, MetricMoments, Summary
from shipit.spec.metric import MetricDef
from shipit.spec.plan import AnalysisPlan
from shipit.stats.bayesian import NormalComparison, NormalPrior
from shipit.stats.cuped import CupedResult
from shipit.stats.rank import RankResult
from shipit.stats.results import ComparisonResult

__all__ = ["SPENDING", "RowStats", "pair_rows", "row_stats"]

# The spec's spending names as the stats package spells them.
SPENDING = {"obrien_fleming": "obf", "pocock": "pocock"}


def pair_rows(
    mm: MetricMoments,
    metric: MetricDef,
    control: Sequence[GroupKey],
    variant: Sequence[GroupKey],
) -> tuple[Summary, Summary]:
    """The metric's control and variant summaries whose row i compares group ``control[i]``
    with group ``variant[i]``."""
    return kind_of(metric).pair(mm[metric.name], mm.rows(control), mm.rows(variant))


@dataclass(frozen=True)
class RowStats:
    """Everything computed for a set of rows: raw, adjusted (CUPED) and the posterior."""

    raw: ComparisonResult
    adjusted: ComparisonResult | None
    posterior: NormalComparison | None
    cuped: CupedResult | None = None
    rank: RankResult | None = None
    bootstrap_p_value: FloatArray | None = None  # interval: bootstrap, per row

    @property
    def best(self) -> ComparisonResult:
        """The comparison to act on: CUPED when present."""
        return self.adjusted if self.adjusted is not None else self.raw


def row_stats(
    c: Summary,
    v: Summary,
    metric: MetricDef,
    plan: AnalysisPlan,
    *,
    higher_is_better: bool,
    bayes: bool | None = None,
) -> RowStats:
    """Raw comparison of every row; CUPED when the plan and the summary allow; posterior
    when the plan is Bayesian (or ``bayes``) and the metric's kind has one."""
    kind = kind_of(metric)
    cmp = kind.compare(c, v, alpha=plan.alpha, alternative=plan.alternative, cuped=plan.cuped)
    posterior = None
    wanted = bayes if bayes is not None else plan.method == "bayesian"
    if wanted and kind.supports_posterior:
        prior = plan.bayesian.prior
        normal = (
            NormalPrior(mean=prior.mean, sd=prior.sd)
            if prior.kind == "normal" and prior.sd is not None
            else NormalPrior()
        )
        posterior = cmp.posterior(normal, level=1.0 - plan.alpha, higher_is_better=higher_is_better)
    return RowStats(cmp.raw, cmp.adjusted, posterior, cmp.cuped, cmp.rank, cmp.bootstrap_p_value)
