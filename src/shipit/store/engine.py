"""The ``Engine`` seam: where SQL runs. DuckDB by default, any Ibis backend by URL.

Everything above the store speaks SQL text in the engine's sqlglot ``dialect`` and gets
Arrow tables back; appends go through ``append`` so that they are atomic and idempotent.
Names and values in that SQL are quoted by ``shipit.store.sql``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlglot import exp

from shipit.errors import InputError, NotFoundError
from shipit.store.sql import Capabilities
from shipit.store.tables import TABLES, TableName, TableSchema

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DEFAULT_STORE", "Engine", "connect", "map_table"]

DEFAULT_STORE = Path(".shipit") / "store.duckdb"


@runtime_checkable
class Engine(Protocol):
    """A SQL engine holding (or pointing at) the exposures, events and units tables."""

    @property
    def dialect(self) -> str:
        """The sqlglot dialect of the SQL this engine runs ("duckdb", "spark", ...)."""
        ...

    @property
    def capabilities(self) -> Capabilities:
        """What the dialect supports (``store.sql.capabilities_for(dialect)``): compilers
        ask this rather than compare dialect names."""
        ...

    def query(self, sql: str) -> pa.Table:
        """Run a SELECT and return its result."""
        ...

    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing (DDL, views)."""
        ...

    def columns(self, table: str) -> dict[str, str] | None:
        """Column names and SQL types of a table or view, or None when it does not exist."""
        ...

    def append(self, schema: TableSchema, batches: Iterable[pa.RecordBatch]) -> int:
        """Add validated batches as one unit: all or nothing; return the rows stored.

        Rows whose ``schema.key`` is already stored are skipped (or replace the stored row
        when ``schema.replace``), so retrying a batch never duplicates it.
        """
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def connect(url: str | Path | None = None) -> Engine:
    """Open an engine: a DuckDB file path (default ``.shipit/store.duckdb``), ``:memory:``,
    ``duckdb://PATH``, or any other Ibis URL (``ibis+pyspark://``, ``postgres://``, ...).

    ``ibis+duckdb://PATH`` opens the native DuckDB engine too: the newest Ibis (12) calls
    DuckDB methods that DuckDB 2.0 removed, and the SQL and dialect are the same anyway."""
    if url is None:
        url = DEFAULT_STORE
    text = str(url)
    if "://" not in text or text.startswith(("duckdb://", "ibis+duckdb://")):
        from shipit.store.duckdb import DuckDBEngine

        path = text.split("duckdb://", 1)[1] if "://" in text else text
        return DuckDBEngine(path or ":memory:")
    from shipit.store.ibis import IbisEngine

    return IbisEngine.from_url(text.removeprefix("ibis+"))


def map_table(
    engine: Engine,
    name: TableName,
    source: str,
    columns: Mapping[str, str] | None = None,
    *,
    constants: Mapping[str, str | int | float] | None = None,
    view: str | None = None,
) -> str:
    """Bring your own table: define ``name`` as a view over an existing ``source`` table.

    ``columns`` maps shipit column names to source columns ({"unit_id": "customer_id"});
    ``constants`` gives a column one value for every row ({"experiment": "checkout"}: a
    table of one experiment's assignments); unmapped columns are taken by their own name,
    and the source's other columns are kept as attributes. Nothing is copied. The view is
    called ``view`` (default ``name``); its name is returned.
    """
    schema = TABLES[name]
    target = view or name
    found = engine.columns(source)
    if found is None:
        raise NotFoundError(f"table {source!r} does not exist in the {engine.dialect} engine")
    mapping = dict(columns or {})
    fixed = dict(constants or {})
    for given in [*mapping, *fixed]:
        if schema.column(given) is None:
            raise InputError(
                f"{name} has no column {given!r} to map (its columns: {', '.join(schema.names)})"
            )
    both = sorted(set(mapping) & set(fixed))
    if both:
        raise InputError(f"{name}.{both[0]} is given both a source column and a constant")
    unknown = [c for c in mapping.values() if c not in found]
    if unknown:
        raise InputError(f"column {unknown[0]!r} not in table {source!r} (has {sorted(found)})")
    select: list[exp.Expression] = []
    used: set[str] = set()
    for col in schema.columns:
        if col.name in fixed:
            value = fixed[col.name]
            lit = exp.Literal.string(value) if isinstance(value, str) else exp.Literal.number(value)
            select.append(exp.cast(lit, col.type).as_(col.name, quoted=True))
            continue
        src = mapping.get(col.name, col.name)
        if src not in found:
            if col.required:
                raise InputError(
                    f"table {source!r} has no column for required {name}.{col.name}: "
                    f"map it, e.g. --map {col.name}=SOURCE_COLUMN"
                    + (" or --constant experiment=KEY" if col.name == "experiment" else "")
                )
            default = exp.Literal.number(0) if col.name == "phase" else exp.Null()
            select.append(exp.cast(default, col.type).as_(col.name, quoted=True))
            continue
        used.add(src)
        select.append(exp.cast(exp.column(src, quoted=True), col.type).as_(col.name, quoted=True))
    for extra in found:
        if extra not in used and extra not in schema.names:
            select.append(exp.column(extra, quoted=True))
    query = exp.select(*select).from_(exp.to_table(source)).sql(dialect=engine.dialect)
    quoted = exp.to_identifier(target, quoted=True).sql(dialect=engine.dialect)
    if engine.dialect == "spark":
        # Spark's permanent views may not read temporary ones: a session view reads both.
        engine.execute(f"CREATE OR REPLACE TEMPORARY VIEW {quoted} AS {query}")
        return target
    if engine.dialect == "postgres":
        # PostgreSQL replaces a view only when its columns keep their names and order.
        engine.execute(f"DROP VIEW IF EXISTS {quoted}")
    engine.execute(f"CREATE OR REPLACE VIEW {quoted} AS {query}")
    return target
