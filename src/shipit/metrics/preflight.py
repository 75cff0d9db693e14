"""Small queries an analysis runs before its moments: what the store actually holds.

Each returns plain values (names, counts) so that the analysis can refuse a metric whose
event or column does not exist, or a variant without exposures, instead of reading zeros.
All of them aggregate in the engine; none brings rows of events into Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipit.metrics.compile import render
from shipit.metrics.exposures import phase_filter
from shipit.metrics.windows import condition
from shipit.spec.metric import Aggregate, Covariate, MetricDef, Window
from shipit.store.engine import Engine
from shipit.store.sql import identifier, literal

__all__ = [
    "TIMING_HOURS",
    "EventTiming",
    "FieldUse",
    "event_names",
    "event_timing",
    "experiment_keys",
    "field_uses",
    "is_numeric",
    "phase_exposures",
    "variant_exposures",
]

_NUMERIC = ("float", "double", "decimal", "int", "real", "numeric", "bigint")


@dataclass(frozen=True)
class FieldUse:
    """One event (and value column) a metric reads, with the spec field that names it."""

    metric: str
    field: str  # spec path: "event", "numerator.value", "covariates[0].column", ...
    event: str | None
    value: str | None  # the events column read (None when only rows are counted)
    numeric: bool  # whether the value must be a number (sum, max, quantile)
    unit_column: str | None = None  # a units-table column (covariate ``column``)


def _uses_of(
    metric: str, prefix: str, agg: Aggregate | Covariate | MetricDef, quantile: bool = False
) -> list[FieldUse]:
    if isinstance(agg, Covariate) and agg.column is not None:
        return [FieldUse(metric, f"{prefix}column", None, None, True, agg.column)]
    assert agg.event is not None
    reads = quantile or agg.aggregation in ("sum", "max", "count_distinct")
    numeric = quantile or agg.aggregation in ("sum", "max")
    return [
        FieldUse(
            metric,
            f"{prefix}event",
            agg.event,
            agg.value if reads else None,
            numeric,
        )
    ]


def field_uses(metric: MetricDef) -> list[FieldUse]:
    """Every event, events column and units column ``metric`` reads, field by field."""
    out: list[FieldUse] = []
    if metric.funnel is not None:  # every step is an event; only rows are counted
        out += [
            FieldUse(metric.name, f"funnel[{j}]", step, None, False)
            for j, step in enumerate(metric.funnel)
        ]
    elif metric.numerator is not None and metric.denominator is not None:
        out += _uses_of(metric.name, "numerator.", metric.numerator)
        out += _uses_of(metric.name, "denominator.", metric.denominator)
    else:
        out += _uses_of(metric.name, "", metric, quantile=metric.quantile is not None)
    for i, cov in enumerate(metric.covariates):
        out += _uses_of(metric.name, f"covariates[{i}].", cov)
    return out


def is_numeric(sql_type: str) -> bool:
    """Whether a column type, as any engine spells it, holds numbers."""
    t = sql_type.lower()
    return any(w in t for w in _NUMERIC)


def _rows(engine: Engine, sql: str) -> dict[str, list[Any]]:
    got: dict[str, list[Any]] = engine.query(render(sql, engine.capabilities)).to_pydict()
    return got


def event_names(engine: Engine, table: str = "events") -> dict[str, int]:
    """Rows per event name in the events table (empty when the table does not exist)."""
    if engine.columns(table) is None:
        return {}
    ev = identifier("event")
    got = _rows(engine, f"SELECT {ev} AS event, COUNT(*) AS n FROM {identifier(table)} GROUP BY 1")
    return {str(e): int(n) for e, n in zip(got["event"], got["n"], strict=True) if e is not None}


def _exposure_counts(
    engine: Engine, column: str, experiment: str, phase: int | None, table: str
) -> list[tuple[Any, int]]:
    """Exposure rows of the experiment (phase) per stored value of ``column`` (nulls too)."""
    where = " AND ".join(phase_filter(experiment, phase))
    c = identifier(column)
    got = _rows(
        engine, f"SELECT {c} AS k, COUNT(*) AS n FROM {identifier(table)} WHERE {where} GROUP BY 1"
    )
    return [(k, int(n)) for k, n in zip(got["k"], got["n"], strict=True)]


def variant_exposures(
    engine: Engine, experiment: str, phase: int | None, table: str = "exposures"
) -> dict[str, int]:
    """Exposure rows per variant of the experiment (phase) as stored."""
    if engine.columns(table) is None:
        return {}
    counts = _exposure_counts(engine, "variant", experiment, phase, table)
    return {str(v): n for v, n in counts if v is not None}


def phase_exposures(
    engine: Engine, experiment: str, table: str = "exposures"
) -> dict[int | None, int]:
    """Exposure rows of the experiment per stored phase (``None``: rows without one)."""
    if "phase" not in (engine.columns(table) or {}):
        return {}
    counts = _exposure_counts(engine, "phase", experiment, None, table)
    return {(None if v is None else int(v)): n for v, n in counts}


def experiment_keys(engine: Engine, table: str = "exposures", limit: int = 20) -> list[str]:
    """Experiment keys with exposures in the store (at most ``limit``, sorted)."""
    if engine.columns(table) is None:
        return []
    e = identifier("experiment")
    got = _rows(
        engine,
        f"SELECT DISTINCT {e} AS experiment FROM {identifier(table)} ORDER BY 1 LIMIT {limit}",
    )
    return [str(k) for k in got["experiment"] if k is not None]


# Events this close to their unit's first exposure (either side) are weighed by
# ``event_timing``: a warehouse's older history says nothing about the stamps.
TIMING_HOURS = 7 * 24.0


@dataclass(frozen=True)
class EventTiming:
    """Of an event's rows by exposed units within ``TIMING_HOURS`` of the unit's first
    exposure: how many, and how many fall before it."""

    event: str
    events: int
    before_exposure: int

    @property
    def share_before(self) -> float:
        """The share of those events stamped before the unit's first exposure."""
        return self.before_exposure / self.events if self.events else 0.0


def event_timing(
    engine: Engine,
    experiment: str,
    phase: int | None,
    events: Sequence[str],
    tables: Mapping[str, str] | None = None,
    hours: float = TIMING_HOURS,
) -> dict[str, EventTiming]:
    """Per event name: its rows by the experiment's exposed units within ``hours`` of the
    unit's first exposure, either side, and those before it (one join, in the engine)."""
    t = {"exposures": "exposures", "events": "events", **(tables or {})}
    if not events or engine.columns(t["events"]) is None:
        return {}
    where = " AND ".join(phase_filter(experiment, phase))
    uid, ts, ev = identifier("unit_id"), identifier("timestamp"), identifier("event")
    names = ", ".join(literal(e) for e in sorted(set(events)))
    near = " AND ".join(
        condition(Window(start_hours=-hours, end_hours=hours), f"e.{ts}", "f.first_ts")
    )
    sql = (
        f"WITH f AS (SELECT {uid} AS unit_id, MIN({ts}) AS first_ts "
        f"FROM {identifier(t['exposures'])} WHERE {where} GROUP BY {uid}) "
        f"SELECT e.{ev} AS event, COUNT(*) AS n, "
        f"SUM(CASE WHEN e.{ts} < f.first_ts THEN 1 ELSE 0 END) AS before "
        f"FROM {identifier(t['events'])} e JOIN f ON e.{uid} = f.unit_id "
        f"WHERE e.{ev} IN ({names}) AND {near} GROUP BY e.{ev}"
    )
    got = _rows(engine, sql)
    return {
        str(e): EventTiming(str(e), int(n or 0), int(b or 0))
        for e, n, b in zip(got["event"], got["n"], got["before"], strict=True)
    }
