"""Funnel metrics (``funnel: [view_item, add_to_cart, purchase]``): the share of units that
did every step in order inside the metric window (optionally ``within_hours`` of their
first step), compared as a proportion; each step's reach comes along for the report.

The engine counts per group the exposed units and the units reaching each step
(``funnel_sql``); y = 1 for a unit that reached the last step, so the moments of y are
n, Σy = Σy² = reached_k, and the comparison is the proportion's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from shipit._types import FloatArray
from shipit.metrics.kinds.base import Comparison, SummarySource
from shipit.metrics.kinds.funnel_sql import FunnelQuery
from shipit.metrics.kinds.own import OwnQueryKind
from shipit.metrics.request import MomentsRequest
from shipit.metrics.summary import GroupKey
from shipit.spec.metric import MetricDef
from shipit.stats.comparison import compare_moments
from shipit.stats.estimands import GroupStats, summarize
from shipit.stats.moments import Moments
from shipit.store.engine import Engine

__all__ = ["FUNNEL", "FunnelKind", "FunnelSummary", "compute_funnel"]


@dataclass(frozen=True)
class FunnelSummary:
    """Per group: exposed units ``n`` and ``reached[:, j]``, the units that did steps
    1..j+1 in order. Row i of every array is group ``groups[i]``."""

    steps: tuple[str, ...]
    groups: tuple[GroupKey, ...]
    n: FloatArray
    reached: FloatArray  # (groups, steps)
    sql: str = ""

    def __len__(self) -> int:
        return len(self.groups)

    @property
    def moments(self) -> Moments:
        """Moments of y (1 when the unit did every step): the proportion's summary."""
        k = len(self.groups)
        y = self.reached[:, -1] if k else np.zeros(0)
        return Moments.from_sums(
            [f"r{i}" for i in range(k)], ("y",), self.n, y.reshape(k, 1), y.reshape(k, 1, 1)
        )

    def take(self, rows: Sequence[int]) -> FunnelSummary:
        """The summary of the given rows, in that order (a row may repeat)."""
        idx = np.asarray(rows, dtype=np.int64)
        return replace(
            self,
            groups=tuple(self.groups[i] for i in idx),
            n=self.n[idx],
            reached=self.reached[idx],
        )

    def aligned(self, groups: Sequence[GroupKey]) -> FunnelSummary:
        """The rows of ``groups``, in that order; a group not computed has no units."""
        where = {g: i for i, g in enumerate(self.groups)}
        n = np.zeros(len(groups))
        reached = np.zeros((len(groups), len(self.steps)))
        for j, g in enumerate(groups):
            if g in where:
                n[j] = self.n[where[g]]
                reached[j] = self.reached[where[g]]
        return replace(self, groups=tuple(groups), n=n, reached=reached)


class FunnelKind(OwnQueryKind[FunnelSummary]):
    """``funnel: [...]`` metrics: the engine's step counts, compared as a proportion of
    units that completed the funnel. No CUPED (the spec refuses covariates)."""

    name = "funnel"
    summary_type = FunnelSummary

    def compute(self, source: SummarySource, metric: MetricDef) -> FunnelSummary:
        """The funnel's step counts (one round trip)."""
        return compute_funnel(source.engine, source.request, metric)

    def stats(self, summary: FunnelSummary) -> GroupStats:
        """The completion rate and its variance per row."""
        return summarize(summary.moments, "proportion")

    def compare_summaries(
        self, control: FunnelSummary, variant: FunnelSummary, *, alpha: float, alternative: str
    ) -> Comparison:
        """The completion rates compared as proportions."""
        return compare_moments(
            control.moments,
            variant.moments,
            "proportion",
            alpha=alpha,
            alternative=alternative,
            cuped=False,
        )


FUNNEL = FunnelKind()


def compute_funnel(engine: Engine, request: MomentsRequest, metric: MetricDef) -> FunnelSummary:
    """The step counts of one funnel metric for the request's groups."""
    query = FunnelQuery(request, metric, engine.capabilities)
    sql = query.sql()
    raw: Mapping[str, list[Any]] = engine.query(sql).to_pydict()
    rows = len(raw["variant"])
    groups = tuple(GroupKey.of_row(raw, query.keys, i) for i in range(rows))
    k = len(query.steps)
    n = np.array([float(x or 0) for x in raw["n"]], dtype=np.float64)
    reached = np.array(
        [[float(raw[f"reached_{j}"][i] or 0) for j in range(1, k + 1)] for i in range(rows)],
        dtype=np.float64,
    ).reshape(rows, k)
    return FunnelSummary(query.steps, groups, n, reached, sql)
