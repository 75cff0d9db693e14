"""Per-unit value columns of the moments query: each aggregate over a unit's events in its
window, computed once however many metrics use it."""

from __future__ import annotations

from collections.abc import Mapping

from shipit.metrics.daily import Partial
from shipit.metrics.filters import where_conditions
from shipit.metrics.windows import condition
from shipit.spec.metric import Aggregate, Covariate, MetricDef, Window
from shipit.store.sql import identifier, literal

__all__ = ["Bounds", "UnitValues", "capped"]


class UnitValues:
    """Collects the per-unit value columns and the events they need."""

    def __init__(self, day: bool, sparse: bool = False) -> None:
        self.values: list[str] = []
        self.partials: list[Partial] = []
        self.unit_aliases: list[str] = []
        self.sparse = sparse
        self.events: set[str] = set()
        self.windows: list[Window] = []
        self.unit_columns: list[str] = []
        self.day = day
        # alias -> column of unit_values holding it: equal aggregates are computed once.
        self.source: dict[str, str] = {}
        self._seen: dict[str, str] = {}
        # A unit-total aggregate (covariate) whose window reaches past the exposure: a day's
        # cutoff may not drop events from the join then.
        self.total_after_exposure = False
        # Window ends (hours after exposure; None: open) of the cumulative aggregates.
        self.cumulative_ends: list[float | None] = []

    def _add(self, sql: str, alias: str, partial: Partial | None = None) -> None:
        key = sql
        if self.sparse and partial is not None:
            key += f" /* cumulative={partial.cumulative} */"
        if key in self._seen:
            self.source[alias] = self._seen[key]
            return
        self._seen[key] = self.source[alias] = alias
        self.values.append(f"{sql} AS {alias}")
        if partial is not None:
            self.partials.append(partial)

    def aggregate(
        self,
        agg: Aggregate | Covariate | MetricDef,
        window: Window,
        alias: str,
        *,
        cumulative: bool,
    ) -> None:
        """The unit's ``agg`` of its events in ``window`` (cumulative ones grow by day)."""
        event = agg.event
        assert event is not None
        self.events.add(event)
        self.windows.append(window)
        if cumulative:
            self.cumulative_ends.append(window.end_hours)
        ts = identifier("timestamp")
        conds = [
            f"ev.{identifier('event')} = {literal(event)}",
            *condition(window, f"ev.{ts}", "u.first_ts"),
            *where_conditions(agg.where),
        ]
        if cumulative and self.day:
            conds.append(f"ev.{ts} < u.cutoff")
        if not cumulative and (window.end_hours is None or window.end_hours > 0):
            self.total_after_exposure = True
        when = " AND ".join(conds)
        value = f"ev.{identifier(agg.value)}"
        sql = {
            "sum": f"COALESCE(SUM(CASE WHEN {when} THEN {value} END), 0)",
            "count": f"COUNT(CASE WHEN {when} THEN 1 END)",
            "count_distinct": f"COUNT(DISTINCT CASE WHEN {when} THEN {value} END)",
            "max": f"COALESCE(MAX(CASE WHEN {when} THEN {value} END), 0)",
            "any": f"MAX(CASE WHEN {when} THEN 1 ELSE 0 END)",
            # Distinct UTC days with the event (timestamps are stored in UTC).
            "active_days": f"COUNT(DISTINCT CASE WHEN {when} THEN CAST(ev.{ts} AS DATE) END)",
        }[agg.aggregation]
        partial = Partial(alias, agg.aggregation, when, value, cumulative)
        self._add(f"CAST({sql} AS DOUBLE)", alias, partial)

    def unit_column(self, column: str, alias: str) -> None:
        """A per-unit constant from the units table (a covariate column)."""
        key = f"units:{column}"
        if key in self._seen:
            self.source[alias] = self._seen[key]
            return
        self._seen[key] = self.source[alias] = alias
        self.unit_columns.append(f"un.{identifier(column)} AS {alias}")
        self.unit_aliases.append(alias)
        self.values.append(f"CAST(COALESCE(MAX(u.{alias}), 0) AS DOUBLE) AS {alias}")


Bounds = tuple[float | None, float | None]  # (lowest, highest) value kept; None: no cap


def capped(source: Mapping[str, str], fixed: Mapping[str, Bounds], alias: str) -> str:
    """The per-unit column of ``alias``, clamped to literal caps when given for it."""
    column = source[alias]
    lo, hi = fixed.get(alias, (None, None))
    if hi is not None:
        column = f"LEAST({column}, {float(hi)!r})"
    if lo is not None:
        column = f"GREATEST({column}, {float(lo)!r})"
    return column
