"""Contracts of the three store tables: column names, SQL types, which ones are required.

``exposures``  one row per time a unit saw a variant of an experiment
    experiment  VARCHAR    required  experiment key
    phase       INTEGER    optional  phase of the experiment (0 when absent)
    unit_id     VARCHAR    required  the randomised unit
    variant     VARCHAR    required  variant key
    timestamp   TIMESTAMP  required  when the unit was exposed (UTC)
    <other>     VARCHAR    optional  attributes for segments (country, platform, ...)

``events``  one row per thing a unit did
    event_id    VARCHAR    optional  when given, never stored twice
    unit_id     VARCHAR    required
    event       VARCHAR    required  event name ("purchase", "page_view", ...)
    timestamp   TIMESTAMP  required  (UTC)
    value       DOUBLE     optional  numeric value (revenue, latency, ...)
    <other>     DOUBLE or VARCHAR    properties; numeric ones can be metric values

``shadow_predictions``  one row per request of a shadow experiment: both models' outputs
    experiment, phase, request_id (unique per experiment), unit_id, timestamp; the scores
    (DOUBLE) or labels (VARCHAR; a ranking as a JSON list) of production and candidate,
    and their latencies in milliseconds (see ``shipit.store.shadow``)

``units``  optional, one row per unit: attributes and pre-computed covariates
    unit_id     VARCHAR    required  unique; a reload replaces the unit's row
    <other>     DOUBLE or VARCHAR
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["EVENTS", "EXPOSURES", "SHADOW", "TABLES", "UNITS", "Column", "TableName", "TableSchema"]

TableName = Literal["exposures", "events", "units", "shadow_predictions"]
SqlType = Literal["VARCHAR", "INTEGER", "DOUBLE", "TIMESTAMP"]
# The shadow table's output columns, one of each per model (production_score, ...).
_OUTPUTS: tuple[tuple[str, SqlType], ...] = (
    ("score", "DOUBLE"),
    ("label", "VARCHAR"),
    ("ms", "DOUBLE"),
)


@dataclass(frozen=True)
class Column:
    """One fixed column of a store table."""

    name: str
    type: SqlType
    required: bool


@dataclass(frozen=True)
class TableSchema:
    """A store table: fixed columns, the key that makes appends idempotent, extra columns."""

    name: TableName
    columns: tuple[Column, ...]
    # Rows with equal values in these columns are stored once (None: plain append).
    key: tuple[str, ...] | None
    # Type of extra columns: VARCHAR, or "infer" (DOUBLE when numeric, VARCHAR otherwise).
    extra: Literal["VARCHAR", "infer"]
    # A reload of a key replaces the stored row (units) instead of being skipped.
    replace: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the fixed columns, in order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column | None:
        """The fixed column of that name, if any."""
        return next((c for c in self.columns if c.name == name), None)


EXPOSURES = TableSchema(
    name="exposures",
    columns=(
        Column("experiment", "VARCHAR", True),
        Column("phase", "INTEGER", False),
        Column("unit_id", "VARCHAR", True),
        Column("variant", "VARCHAR", True),
        Column("timestamp", "TIMESTAMP", True),
    ),
    # An exact duplicate exposure carries no information: store it once.
    key=("experiment", "phase", "unit_id", "variant", "timestamp"),
    extra="VARCHAR",
)

EVENTS = TableSchema(
    name="events",
    columns=(
        Column("event_id", "VARCHAR", False),
        Column("unit_id", "VARCHAR", True),
        Column("event", "VARCHAR", True),
        Column("timestamp", "TIMESTAMP", True),
        Column("value", "DOUBLE", False),
    ),
    key=("event_id",),
    extra="infer",
)

UNITS = TableSchema(
    name="units",
    columns=(Column("unit_id", "VARCHAR", True),),
    key=("unit_id",),
    extra="infer",
    replace=True,
)

SHADOW = TableSchema(
    name="shadow_predictions",
    columns=(
        Column("experiment", "VARCHAR", True),
        Column("phase", "INTEGER", False),
        Column("request_id", "VARCHAR", True),
        Column("unit_id", "VARCHAR", True),
        Column("timestamp", "TIMESTAMP", True),
        *(Column(f"{m}_{x}", t, False) for x, t in _OUTPUTS for m in ("production", "candidate")),
    ),
    # A request is logged once: a retried batch is stored once.
    key=("experiment", "request_id"),
    extra="VARCHAR",
)

TABLES: dict[str, TableSchema] = {t.name: t for t in (EXPOSURES, EVENTS, UNITS, SHADOW)}
