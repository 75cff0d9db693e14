"""shipit.store: the event store (exposures, events, units) and the engine it lives in."""

from __future__ import annotations

from shipit.store.duckdb import DuckDBEngine
from shipit.store.engine import DEFAULT_STORE, Engine, connect, map_table
from shipit.store.loaders import load
from shipit.store.tables import EVENTS, EXPOSURES, TABLES, UNITS, TableSchema

__all__ = [
    "DEFAULT_STORE",
    "EVENTS",
    "EXPOSURES",
    "TABLES",
    "UNITS",
    "DuckDBEngine",
    "Engine",
    "TableSchema",
    "connect",
    "load",
    "map_table",
]
