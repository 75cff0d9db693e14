"""The ``MetricKind`` protocol and its registry: the one place that tells kinds apart.

How to add a kind (a quantile metric, a rank test, ...):

1. Give its definitions a name: ``MetricDef.kind`` (spec) derives the kind's name from the
   definition; the registry keys off that name.
2. Write ``shipit/metrics/kinds/<name>.py`` with a class implementing ``MetricKind``. A kind
   summarized by moments of per-unit values subclasses ``MomentKind`` and says which
   per-unit values it needs (``unit_values``); any other kind returns no unit values and
   computes its own summary in ``summarize`` with a query of its own (the CTE builders of
   ``metrics.compile`` and ``Engine.capabilities`` help), returning its own summary type
   (anything with ``n`` per group and ``len``), one row per ``source.groups`` entry.
3. ``compare`` turns paired control and variant rows into a ``Comparison`` (a
   ``stats.results.ComparisonResult`` per row, plus the group estimates a Normal posterior
   starts from); ``supports_cuped`` and ``supports_posterior`` say what the analysis may
   ask of it.
4. Add one ``register(...)`` line to ``shipit/metrics/kinds/__init__.py``.

Nothing outside this package looks at a kind's name: metrics compile the values a kind
asks for, and analysis calls the kind's methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

from shipit.errors import SpecError
from shipit.metrics.request import MomentsRequest
from shipit.metrics.summary import GroupKey, Summary
from shipit.spec.metric import Aggregate, MetricDef
from shipit.stats.comparison import Comparison
from shipit.stats.estimands import GroupStats
from shipit.stats.moments import Moments
from shipit.store.engine import Engine

__all__ = [
    "Comparison",
    "MetricKind",
    "SummarySource",
    "UnitValue",
    "kind_named",
    "kind_of",
    "register",
    "registered",
]

# A per-unit value: an aggregate over the unit's events (a metric is one, for ``y``).
UnitValue: TypeAlias = Aggregate | MetricDef


@dataclass(frozen=True)
class SummarySource:
    """What a kind reads its summaries from: the shared moments query's result (by
    metric), the request and its groups, and the engine for a query of its own."""

    engine: Engine
    request: MomentsRequest
    groups: tuple[GroupKey, ...]
    moments: Mapping[str, Moments]

    def query(self, sql: str) -> dict[str, list[Any]]:
        """Run a SELECT on the engine; its result as columns."""
        result: dict[str, list[Any]] = self.engine.query(sql).to_pydict()
        return result


class MetricKind(Protocol):
    """One kind of metric: what the engine computes for it and how variants compare."""

    @property
    def name(self) -> str:
        """The kind's name, as ``MetricDef.kind`` derives it (and ``Effect.kind`` shows)."""
        ...

    @property
    def supports_cuped(self) -> bool:
        """Whether covariates adjust its comparisons (CUPED)."""
        ...

    @property
    def supports_posterior(self) -> bool:
        """Whether the Normal posterior (Bayesian plans) applies to its estimates."""
        ...

    def unit_values(self, metric: MetricDef) -> tuple[tuple[str, UnitValue], ...]:
        """The per-unit values the shared moments query computes, as (column of z, its
        aggregate over the unit's events in ``metric.window``): ``(("y", metric),)`` or
        ``(("num", ...), ("den", ...))``; covariates follow as x1..xk. Empty for a kind
        that computes its summary with its own query."""
        ...

    def value_columns(self, metric: MetricDef) -> tuple[str, ...]:
        """The value columns of z before the covariates (``("y",)``, ``("num", "den")``)."""
        ...

    def summarize(self, source: SummarySource, metrics: Sequence[MetricDef]) -> dict[str, Summary]:
        """The engine's summary of each of ``metrics`` (all of this kind), by name, with
        one row per group of ``source.groups``."""
        ...

    def pair(
        self, summary: Summary, control: Sequence[int], variant: Sequence[int]
    ) -> tuple[Summary, Summary]:
        """Control and variant summaries whose row i holds the groups at ``control[i]``
        and ``variant[i]`` (a group may appear in several rows)."""
        ...

    def group_stats(self, summary: Summary) -> GroupStats:
        """Each row's estimate and its sampling variance."""
        ...

    def compare(
        self,
        control: Summary,
        variant: Summary,
        *,
        alpha: float,
        alternative: str,
        cuped: bool,
    ) -> Comparison:
        """Row i of ``variant`` against row i of ``control``; CUPED when ``cuped`` and the
        summary carries covariates."""
        ...


_KINDS: dict[str, MetricKind] = {}


def register(kind: MetricKind) -> MetricKind:
    """Make ``kind`` the kind of every definition whose ``MetricDef.kind`` is its name."""
    known = _KINDS.get(kind.name)
    if known is not None and known is not kind:
        raise SpecError(f"a metric kind named {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def registered() -> tuple[str, ...]:
    """The names of the registered kinds, in registration order."""
    return tuple(_KINDS)


def kind_of(metric: MetricDef) -> MetricKind:
    """The kind of a metric definition (SpecError when none is registered for it)."""
    name = str(metric.kind)
    try:
        return _KINDS[name]
    except KeyError:
        raise SpecError(
            f"metric {metric.name!r}: no metric kind {name!r} (known: {', '.join(_KINDS)})"
        ) from None


def kind_named(name: str) -> MetricKind:
    """The registered kind called ``name`` (SpecError when there is none)."""
    try:
        return _KINDS[name]
    except KeyError:
        raise SpecError(f"no metric kind {name!r} (known: {', '.join(_KINDS)})") from None
