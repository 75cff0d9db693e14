"""IbisEngine: the same SQL on any Ibis backend (Spark, Postgres, warehouses) by URL."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from shipit.errors import EngineError
from shipit.store.sql import Capabilities, capabilities_for, identifier
from shipit.store.tables import TableSchema

__all__ = ["IbisEngine"]

# Ibis backend name -> sqlglot dialect, where they differ.
_DIALECTS = {"pyspark": "spark", "postgres": "postgres", "mssql": "tsql"}


class IbisEngine:
    """SQL run through an Ibis backend. Appends are validated in full before one INSERT
    (engines such as Spark have no transactions, so one statement is the atomic unit)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        name = str(getattr(backend, "name", "duckdb"))
        self.dialect = _DIALECTS.get(name, name)
        self.capabilities: Capabilities = capabilities_for(self.dialect)

    @classmethod
    def from_url(cls, url: str) -> IbisEngine:
        """Connect with ``ibis.connect(url)``."""
        import ibis

        try:
            return cls(ibis.connect(url))
        except Exception as exc:
            raise EngineError(f"cannot connect to {url}: {exc}") from exc

    def __repr__(self) -> str:
        return f"IbisEngine({self.dialect})"

    def query(self, sql: str) -> pa.Table:
        """Run a SELECT through the backend's raw SQL and return Arrow."""
        try:
            result = self.backend.raw_sql(sql)
            return _to_arrow(result)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"{self.dialect} query failed: {exc}") from exc

    def execute(self, sql: str) -> None:
        """Run a statement."""
        try:
            result = self.backend.raw_sql(sql)
            if hasattr(result, "collect"):  # Spark DataFrames are lazy
                result.collect()
        except Exception as exc:
            raise EngineError(f"{self.dialect} statement failed: {exc}") from exc

    def columns(self, table: str) -> dict[str, str] | None:
        """Columns of a table or view (None if absent)."""
        if table not in self.backend.list_tables():
            return None
        schema = self.backend.get_schema(table)
        return {name: str(dtype) for name, dtype in schema.items()}

    def append(self, schema: TableSchema, batches: Iterable[pa.RecordBatch]) -> int:
        """Validate every batch first, then stage and insert new rows in one statement."""
        parts = list(batches)
        if not parts:
            return 0
        data = (
            pa.Table.from_batches(parts)
            if len({p.schema for p in parts}) == 1
            else (
                pa.concat_tables(
                    [pa.Table.from_batches([p]) for p in parts], promote_options="default"
                )
            )
        )
        try:
            if self.columns(schema.name) is None:
                self.backend.create_table(schema.name, schema=data.schema)
            have = self.columns(schema.name) or {}
            new = [c for c in data.column_names if c not in have]
            if new:
                raise EngineError(
                    f"{schema.name} has no column {new[0]!r} in the {self.dialect} engine: "
                    "add it there first"
                )
            stage = f"shipit_stage_{uuid.uuid4().hex[:12]}"
            self._stage(stage, data)
            try:
                before = self._count(schema.name)
                self.execute(self._merge_sql(schema, stage, list(data.column_names)))
                return self._count(schema.name) - before
            finally:
                if getattr(self.backend, "_session", None) is not None:
                    self.backend._session.catalog.dropTempView(stage)
                else:
                    self.backend.drop_table(stage, force=True)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"loading {schema.name} into {self.dialect} failed: {exc}") from exc

    def _stage(self, name: str, data: pa.Table) -> None:
        """Put the batch where the engine can read it; Spark takes Arrow directly (Ibis's
        pandas round trip would turn nulls into "NaN" strings)."""
        session = getattr(self.backend, "_session", None)
        if session is not None and hasattr(session, "createDataFrame"):
            session.createDataFrame(data).createOrReplaceTempView(name)
        else:
            self.backend.create_table(name, obj=data)

    def _count(self, table: str) -> int:
        return int(
            self.query(f"SELECT COUNT(*) AS n FROM {identifier(table, self.dialect)}")[0][0].as_py()
        )

    def _merge_sql(self, schema: TableSchema, stage: str, cols: list[str]) -> str:
        def q(c: str) -> str:
            return identifier(c, self.dialect)

        listed = ", ".join(q(c) for c in cols)
        target = q(schema.name)
        if schema.key is None:
            return f"INSERT INTO {target} ({listed}) SELECT {listed} FROM {stage}"
        keyed = " AND ".join(f"s.{q(k)} IS NOT NULL" for k in schema.key)
        on = " AND ".join(f"s.{q(k)} = t.{q(k)}" for k in schema.key)
        first = " AND ".join(f"t.{q(k)} IS NULL" for k in schema.key[:1])
        keys = ", ".join(q(k) for k in schema.key)
        # One row per new key, rows without a key as they come; stored keys are skipped.
        return (
            f"INSERT INTO {target} ({listed}) "
            f"SELECT {listed} FROM {stage} s WHERE NOT ({keyed}) "
            f"UNION ALL "
            f"SELECT {', '.join(f's.{q(c)}' for c in cols)} FROM ("
            f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {keys}) AS shipit_rn "
            f"FROM {stage}) s LEFT JOIN (SELECT DISTINCT {keys} FROM {target}) t ON {on} "
            f"WHERE s.shipit_rn = 1 AND {keyed} AND {first}"
        )

    def close(self) -> None:
        """Disconnect the backend."""
        disconnect = getattr(self.backend, "disconnect", None)
        if callable(disconnect):
            disconnect()


def _to_arrow(result: Any) -> pa.Table:
    """Arrow from whatever a backend's raw_sql returns (DuckDB cursor, Spark DataFrame,
    DB-API cursor)."""
    for method in ("to_arrow_table", "toArrow"):
        fn = getattr(result, method, None)
        if callable(fn):
            table = fn()
            if isinstance(table, pa.Table):
                return table
    if hasattr(result, "fetchall") and getattr(result, "description", None):
        names = [d[0] for d in result.description]
        rows = result.fetchall()
        return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
    raise EngineError(f"cannot read a query result of type {type(result).__name__}")
