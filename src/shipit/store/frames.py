"""Per-unit tables where they are: a CSV or Parquet file, a table of the store, a data frame.

Each resolves to an ``Engine`` and the SQL of a FROM clause over the data, so the moments
query reads it in place: files through DuckDB's readers, a store table by name, pandas,
Polars or Arrow frames through Narwhals as Arrow registered with an in-memory DuckDB (no
copy for Arrow and Polars), and an Ibis table as its own SQL on its own backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipit.errors import InputError, NotFoundError
from shipit.store.engine import Engine
from shipit.store.sql import identifier, literal

__all__ = ["ENGINE_PREFIX", "TableRef", "file_table", "frame_table", "is_table_path", "store_table"]

ENGINE_PREFIX = "engine:"
FILE_SUFFIXES = (".csv", ".parquet", ".pq", ".tsv")
FRAME_VIEW = "shipit_frame"


@dataclass(frozen=True)
class TableRef:
    """A per-unit table as the moments query reads it: ``source`` is SQL for the FROM
    clause on ``engine``; ``label`` names the table in messages; ``owned`` says whether the
    engine was opened for this table (and should be closed after)."""

    engine: Engine
    source: str
    label: str
    owned: bool


def is_table_path(text: str) -> bool:
    """Whether an ``analyze`` argument names a per-unit table (a data file or ``engine:``)."""
    return text.startswith(ENGINE_PREFIX) or Path(text).suffix.lower() in FILE_SUFFIXES


def file_table(path: str | Path) -> TableRef:
    """A CSV or Parquet file, read in place by an in-memory DuckDB."""
    from shipit.store.duckdb import DuckDBEngine

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise InputError(f"{p}: a per-unit table is a .csv or .parquet file (or engine:TABLE)")
    if not p.is_file():
        raise NotFoundError(f"no file {p}")
    reader = "read_parquet" if suffix in (".parquet", ".pq") else "read_csv"
    return TableRef(DuckDBEngine(":memory:"), f"{reader}({literal(str(p))})", str(p), True)


def store_table(engine: Engine, name: str) -> TableRef:
    """A table (or view) of the store by name (``engine:NAME`` or ``NAME``)."""
    table = name.removeprefix(ENGINE_PREFIX)
    if not table:
        raise InputError("engine: needs a table name, e.g. engine:outcomes")
    if engine.columns(table) is None:
        raise NotFoundError(f"table {table!r} does not exist in the {engine.dialect} engine")
    return TableRef(engine, identifier(table, engine.dialect), f"table {table!r}", False)


def frame_table(data: Any) -> TableRef:
    """A pandas, Polars or Arrow data frame (through Narwhals), or an Ibis table."""
    ibis_ref = _ibis_table(data)
    if ibis_ref is not None:
        return ibis_ref
    import narwhals as nw
    import pyarrow as pa

    from shipit.store.duckdb import DuckDBEngine

    if isinstance(data, pa.Table):
        arrow = data
    else:
        try:
            frame = nw.from_native(data, eager_only=True)
        except TypeError as exc:
            raise InputError(
                f"cannot read a {type(data).__name__} as a table: pass a pandas, Polars or "
                "Arrow data frame, or an Ibis table"
            ) from exc
        arrow = frame.to_arrow()
    engine = DuckDBEngine(":memory:")
    engine.con.register(FRAME_VIEW, arrow)
    return TableRef(engine, identifier(FRAME_VIEW), "the data frame", True)


def _ibis_table(data: Any) -> TableRef | None:
    """An Ibis table on its own backend: its SQL as a subquery (nothing is copied)."""
    if type(data).__module__.split(".")[0] != "ibis":
        return None
    import ibis

    from shipit.store.ibis import IbisEngine

    if not isinstance(data, ibis.Table):
        return None
    try:
        backend = data.get_backend()
    except Exception as exc:  # an unbound (memtable) expression
        raise InputError(f"the Ibis table has no backend to run on: {exc}") from exc
    engine: Engine = IbisEngine(backend)
    if engine.dialect == "duckdb" and hasattr(backend, "con"):
        from shipit.store.duckdb import DuckDBEngine

        engine = DuckDBEngine.from_connection(backend.con)  # Arrow without a DB-API copy
    sql = ibis.to_sql(data, dialect=engine.dialect)
    return TableRef(engine, f"({sql}) AS shipit_table", "the Ibis table", False)
