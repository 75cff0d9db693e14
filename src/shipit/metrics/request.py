"""``MomentsRequest``: what to summarize, for which experiment and breakdown, as one value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from shipit.errors import SpecError
from shipit.spec.metric import MetricDef

__all__ = ["MomentsRequest"]

TABLES = {"exposures": "exposures", "events": "events", "units": "units"}
# The segment computed from each unit's first exposure: its week (when no column has the name).
ENTRY_WEEK = "entry_week"


@dataclass(frozen=True)
class MomentsRequest:
    """The summaries of ``metrics`` for an experiment (phase) and its ``variants``.

    ``by`` is None, ``"day"`` (cumulative to the end of each UTC day) or the name of a
    segment attribute, read from ``segment_in`` (the exposures or the units table), or
    ``entry_week`` with ``segment_in="entry"``: the week (Monday, UTC) of each unit's first
    exposure, for entry-cohort effects.
    By day, ``day_plan="dense"`` forces the units × days plan and ``"changes"`` the per-unit
    change plan (for comparison; see ``metrics.daily``).
    ``unit_slice=(i, k)`` keeps the units whose id hashes to ``i`` modulo ``k`` (engines
    that support unit slices): moments of disjoint slices add up to those of all units.
    By day, winsorized metrics are capped at ``cap_values`` ((metric, z) -> cap, as the
    query without ``by`` returns them): the whole period's caps, the same on every day.
    ``tables`` renames the store tables ({"events": "my_events"}).
    """

    experiment: str
    phase: int | None
    variants: Sequence[str]
    metrics: Sequence[MetricDef]
    by: str | None = None
    segment_in: Literal["exposures", "units", "entry"] = "exposures"
    phase_start: datetime | None = None
    tables: Mapping[str, str] | None = None
    day_plan: Literal["auto", "dense", "changes"] = "auto"
    unit_slice: tuple[int, int] | None = None
    cap_values: Mapping[tuple[str, str], float | None] | None = None

    def __post_init__(self) -> None:
        if not self.metrics:
            raise SpecError("no metrics to compute")
        if not self.variants:
            raise SpecError("no variants given")
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise SpecError(f"metric names must be unique, got {names}")

    @property
    def day(self) -> bool:
        """Whether the breakdown is cumulative by day."""
        return self.by == "day"

    @property
    def segment(self) -> str | None:
        """The segment attribute of the breakdown, if it is one."""
        return self.by if self.by not in (None, "day") else None

    @property
    def keys(self) -> tuple[str, ...]:
        """The group columns of a summary query: variant[, segment][, day]."""
        return (
            ("variant",) + (("segment",) if self.segment else ()) + (("day",) if self.day else ())
        )

    def table(self, name: str) -> str:
        """The engine table holding the store table ``name``."""
        return {**TABLES, **(self.tables or {})}[name]

    def with_metrics(self, metrics: Sequence[MetricDef]) -> MomentsRequest:
        """The same request for other metrics."""
        return replace(self, metrics=tuple(metrics))
