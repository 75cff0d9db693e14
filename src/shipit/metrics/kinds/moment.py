"""``MomentKind``: the shared behaviour of kinds summarized by the moments of z = [1, y, x].

The engine returns n, Σz and Σzzᵀ per group (``stats.Moments``); ``stats`` derives the
estimate, its variance, the CUPED adjustment and the comparison from them for the kind's
``name`` (the estimand ``stats`` knows it by).
"""

from __future__ import annotations

from collections.abc import Sequence

from shipit.errors import InputError
from shipit.metrics.kinds.base import Comparison, SummarySource, UnitValue
from shipit.metrics.summary import Summary
from shipit.spec.metric import MetricDef
from shipit.stats.comparison import compare_moments
from shipit.stats.estimands import GroupStats, summarize
from shipit.stats.moments import Moments

__all__ = ["MomentKind"]


def _moments(summary: Summary) -> Moments:
    if not isinstance(summary, Moments):
        raise InputError(f"expected moments, got a {type(summary).__name__}")
    return summary


class MomentKind:
    """A kind whose summary is ``Moments`` of its value ``columns`` and the covariates."""

    name: str = ""
    columns: tuple[str, ...] = ("y",)
    supports_cuped: bool = True
    supports_posterior: bool = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def unit_values(self, metric: MetricDef) -> tuple[tuple[str, UnitValue], ...]:
        """``y`` is the metric's own aggregate of the unit's events."""
        return (("y", metric),)

    def value_columns(self, metric: MetricDef) -> tuple[str, ...]:
        """The columns of z before the covariates."""
        return self.columns

    def summarize(self, source: SummarySource, metrics: Sequence[MetricDef]) -> dict[str, Summary]:
        """Taken from the shared moments query."""
        return {m.name: source.moments[m.name] for m in metrics}

    def pair(
        self, summary: Summary, control: Sequence[int], variant: Sequence[int]
    ) -> tuple[Summary, Summary]:
        """Rows picked by position, under labels of their own (c0.., v0..)."""
        m = _moments(summary)
        c, v = list(control), list(variant)
        return (
            Moments(tuple(f"c{i}" for i in range(len(c))), m.names, m.matrix[c]),
            Moments(tuple(f"v{i}" for i in range(len(v))), m.names, m.matrix[v]),
        )

    def group_stats(self, summary: Summary) -> GroupStats:
        """Estimate and variance per row, as ``stats`` derives them for this estimand."""
        return summarize(_moments(summary), self.name)

    def compare(
        self,
        control: Summary,
        variant: Summary,
        *,
        alpha: float,
        alternative: str,
        cuped: bool,
    ) -> Comparison:
        """Raw comparison of every row, and CUPED beside it when asked and covariates exist
        (``stats.compare_moments``, the call ``shipit stats`` makes too)."""
        return compare_moments(
            _moments(control),
            _moments(variant),
            self.name,
            alpha=alpha,
            alternative=alternative,
            cuped=cuped and self.supports_cuped,
        )
