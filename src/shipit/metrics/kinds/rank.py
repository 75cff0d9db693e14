"""Rank-test metrics (``test: mann_whitney``): Mann-Whitney U from the engine's rank sums.

The engine computes, per pair of variants in the same cell, U, the tie term and the squared
placements (``rank_sql``), and per group n, Σy and Σy². The comparison reports the
difference in means (Welch, as a mean metric) for its size, with the Mann-Whitney test's
statistic (U of the variant) and p-value; the probability of superiority θ with its
DeLong interval is on the summary's pair rows (``RankSummary.rank``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from shipit._types import FloatArray
from shipit.errors import InputError
from shipit.metrics.kinds.base import Comparison, SummarySource
from shipit.metrics.kinds.own import OwnQueryKind, floats
from shipit.metrics.kinds.rank_sql import PAIR_COLUMNS, RankQuery
from shipit.metrics.summary import GroupKey, Summary
from shipit.spec.metric import MetricDef
from shipit.stats.estimands import GroupStats, summarize
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments
from shipit.stats.rank import RankResult, mann_whitney

__all__ = ["RANK", "RankKind", "RankSummary", "compute_ranks"]

PairKey = tuple[GroupKey, GroupKey]


@dataclass(frozen=True)
class RankSummary:
    """Per group n, Σy, Σy²; per pair of groups (a, b in name order) the rank sums.

    After ``RankKind.pair`` a variant-side summary also holds ``partner``: row i's pair
    numbers oriented as (control = partner, variant = this row).
    """

    groups: tuple[GroupKey, ...]
    n: FloatArray
    total: FloatArray
    total_sq: FloatArray
    pairs: Mapping[PairKey, tuple[float, ...]]
    partner: tuple[GroupKey, ...] | None = None
    sql: str = ""

    def __len__(self) -> int:
        return len(self.groups)

    def moments(self) -> Moments:
        """The moments of z = [1, y] per row (for the means and Welch's test)."""
        k = len(self.groups)
        labels = [f"r{i}" for i in range(k)]
        sums = self.total.reshape(k, 1)
        return Moments.from_sums(labels, ("y",), self.n, sums, self.total_sq.reshape(k, 1, 1))

    def take(self, rows: Sequence[int]) -> RankSummary:
        """The rows given, in that order."""
        idx = list(rows)
        return replace(
            self,
            groups=tuple(self.groups[i] for i in idx),
            n=self.n[idx],
            total=self.total[idx],
            total_sq=self.total_sq[idx],
        )

    def aligned(self, groups: Sequence[GroupKey]) -> RankSummary:
        """The rows of ``groups``, in that order; a group not computed has no units."""
        where = {g: i for i, g in enumerate(self.groups)}
        k = len(groups)
        n, total, total_sq = np.zeros(k), np.zeros(k), np.zeros(k)
        for j, g in enumerate(groups):
            if g in where:
                i = where[g]
                n[j], total[j], total_sq[j] = self.n[i], self.total[i], self.total_sq[i]
        return replace(self, groups=tuple(groups), n=n, total=total, total_sq=total_sq)

    def oriented(self) -> tuple[FloatArray, ...]:
        """Per row vs its partner: n_c, n_v, U_v, tie term, Σ placement² of v, of c."""
        if self.partner is None:
            raise InputError("a rank summary compares only after pairing")
        out = np.full((len(self.groups), 6), np.nan)
        for i, (c, v) in enumerate(zip(self.partner, self.groups, strict=True)):
            if (c, v) in self.pairs:  # a = control, b = variant
                n_a, n_b, u_b, sq_b, sq_a, ties = self.pairs[(c, v)]
                out[i] = (n_a, n_b, u_b, ties, sq_b, sq_a)
            elif (v, c) in self.pairs:  # a = variant, b = control
                n_a, n_b, u_b, sq_b, sq_a, ties = self.pairs[(v, c)]
                out[i] = (n_b, n_a, n_a * n_b - u_b, ties, sq_a, sq_b)
        return tuple(out.T)

    def rank(self, *, alpha: float = 0.05, alternative: str = "two-sided") -> RankResult:
        """Mann-Whitney U, p and the probability of superiority per (partner, row)."""
        n_c, n_v, u, ties, sq_v, sq_c = self.oriented()
        return mann_whitney(n_c, n_v, u, ties, sq_v, sq_c, alpha=alpha, alternative=alternative)


class RankKind(OwnQueryKind[RankSummary]):
    """``test: mann_whitney`` on a per-unit metric: no CUPED, no Normal posterior."""

    name = "rank"
    summary_type = RankSummary
    supports_posterior = False

    def compute(self, source: SummarySource, metric: MetricDef) -> RankSummary:
        """The metric's rank summary (two queries)."""
        return compute_ranks(source, metric)

    def pair(
        self, summary: Summary, control: Sequence[int], variant: Sequence[int]
    ) -> tuple[Summary, Summary]:
        """Rows picked by position; the variant side remembers its control partner."""
        s = self.checked(summary)
        c, v = s.take(control), s.take(variant)
        return c, replace(v, partner=c.groups)

    def stats(self, summary: RankSummary) -> GroupStats:
        """The mean of y and its variance per row."""
        return summarize(summary.moments(), "mean")

    def compare_summaries(
        self, control: RankSummary, variant: RankSummary, *, alpha: float, alternative: str
    ) -> Comparison:
        """The difference in means (Welch) with the Mann-Whitney test's U and p-value."""
        c, v = control, variant
        welch = compare(c.moments(), v.moments(), "mean", alpha=alpha, alternative=alternative)
        r = v.rank(alpha=alpha, alternative=alternative)
        raw = replace(welch, statistic=r.u, p_value=r.p_value, df=np.full(len(v), np.nan))
        return Comparison(raw, None, self.stats(c), self.stats(v), rank=r)


RANK = RankKind()


def compute_ranks(source: SummarySource, metric: MetricDef) -> RankSummary:
    """The rank summary of one metric: per-group sums, then per-pair rank sums."""
    query = RankQuery(source.request, metric, source.engine.capabilities)
    groups_sql, pairs_sql = query.groups_sql(), query.pairs_sql()
    g = source.query(groups_sql)
    keys = query.keys
    groups = tuple(GroupKey.of_row(g, keys, i) for i in range(len(g["variant"])))
    p = source.query(pairs_sql)
    pairs: dict[PairKey, tuple[float, ...]] = {}
    cols = {c: floats(p[c]) for c in PAIR_COLUMNS}
    for i in range(len(p["va"])):
        a = GroupKey.of_row({**p, "variant": p["va"]}, keys, i)
        b = GroupKey.of_row({**p, "variant": p["vb"]}, keys, i)
        pairs[(a, b)] = tuple(float(cols[c][i]) for c in PAIR_COLUMNS)
    return RankSummary(
        groups,
        floats(g["n"]),
        floats(g["s"]),
        floats(g["ss"]),
        pairs,
        sql=f"{groups_sql};\n-- then the pairs:\n{pairs_sql}",
    )
