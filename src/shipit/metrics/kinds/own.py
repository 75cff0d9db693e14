"""The shared behaviour of kinds with summaries of their own (funnel, quantile, rank,
bootstrap) instead of the moments of the shared query.

``SummaryKind``: asks the moments query for no unit values, checks that a summary is its
own before using it, and compares a checked control and variant summary (a subclass
writes ``stats`` and ``compare_summaries``). ``OwnQueryKind`` adds the summary of each
metric from a query of its own (``compute``), realigned to the request's groups, and
pairs rows by position (``take``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from shipit._types import FloatArray
from shipit.errors import InputError
from shipit.metrics.kinds.base import Comparison, SummarySource, UnitValue
from shipit.metrics.summary import GroupKey, Summary
from shipit.spec.metric import MetricDef
from shipit.stats.estimands import GroupStats

__all__ = ["OwnQueryKind", "RowSummary", "SummaryKind", "floats"]


class RowSummary(Protocol):
    """A summary with one row per group that can pick and realign its rows."""

    @property
    def n(self) -> FloatArray: ...

    def __len__(self) -> int: ...

    def take(self, rows: Sequence[int]) -> Any:
        """The rows given, in that order (a row may repeat)."""
        ...

    def aligned(self, groups: Sequence[GroupKey]) -> Any:
        """The rows of ``groups``, in that order; a group not computed has no units."""
        ...


S = TypeVar("S")
R = TypeVar("R", bound=RowSummary)


class SummaryKind(Generic[S]):
    """A kind whose summaries are of ``summary_type``."""

    name: str = ""
    summary_type: type[S]
    supports_cuped: bool = False
    supports_posterior: bool = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def unit_values(self, metric: MetricDef) -> tuple[tuple[str, UnitValue], ...]:
        """None in the shared moments query: the kind runs queries of its own."""
        return ()

    def value_columns(self, metric: MetricDef) -> tuple[str, ...]:
        """No moment columns."""
        return ()

    def checked(self, summary: Summary) -> S:
        """``summary`` when it is this kind's; InputError otherwise."""
        if not isinstance(summary, self.summary_type):
            raise InputError(f"expected a {self.name} summary, got a {type(summary).__name__}")
        return summary

    def stats(self, summary: S) -> GroupStats:
        """Each row's estimate and its sampling variance."""
        raise NotImplementedError

    def group_stats(self, summary: Summary) -> GroupStats:
        """Each row's estimate and its sampling variance."""
        return self.stats(self.checked(summary))

    def compare_summaries(
        self, control: S, variant: S, *, alpha: float, alternative: str
    ) -> Comparison:
        """Row i of ``variant`` against row i of ``control`` (never CUPED-adjusted)."""
        raise NotImplementedError

    def compare(
        self,
        control: Summary,
        variant: Summary,
        *,
        alpha: float,
        alternative: str,
        cuped: bool,
    ) -> Comparison:
        """The checked summaries' comparison; ``cuped`` is ignored (the spec refuses
        covariates on these kinds)."""
        return self.compare_summaries(
            self.checked(control), self.checked(variant), alpha=alpha, alternative=alternative
        )


class OwnQueryKind(SummaryKind[R]):
    """A kind whose summaries come from a query of its own per metric, one row per group."""

    def compute(self, source: SummarySource, metric: MetricDef) -> R:
        """One metric's summary, on the groups its query finds."""
        raise NotImplementedError

    def summarize(self, source: SummarySource, metrics: Sequence[MetricDef]) -> dict[str, Summary]:
        """Each metric's summary on the request's groups, in their order."""
        return {m.name: self.compute(source, m).aligned(source.groups) for m in metrics}

    def pair(
        self, summary: Summary, control: Sequence[int], variant: Sequence[int]
    ) -> tuple[Summary, Summary]:
        """Rows picked by position."""
        s = self.checked(summary)
        return s.take(control), s.take(variant)


def floats(values: Sequence[Any]) -> FloatArray:
    """A result column as floats, NULL as NaN."""
    return np.array([np.nan if x is None else float(x) for x in values], dtype=np.float64)
