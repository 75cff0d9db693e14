"""DuckDBEngine: the embedded default, a DuckDB file in the project directory."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import pyarrow as pa

from shipit.errors import EngineError
from shipit.store.sql import capabilities_for, identifier
from shipit.store.tables import TableSchema

__all__ = ["COMMIT_ROWS", "BulkWrite", "DuckDBEngine"]

# Rows a bulk load writes between commits (DuckDB keeps uncommitted appends in memory).
COMMIT_ROWS = 5_000_000

_ARROW_SQL = {
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.timestamp("us"): "TIMESTAMP",
    pa.bool_(): "BOOLEAN",
}


class DuckDBEngine:
    """SQL on an embedded DuckDB database: a file (created with its folder) or ``:memory:``."""

    dialect = "duckdb"
    capabilities = capabilities_for("duckdb")

    def __init__(self, path: str | Path = ":memory:", *, threads: int | None = None) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(self.path)
            self.con.execute("SET TimeZone = 'UTC'")
            if threads:
                self.con.execute(f"SET threads = {int(threads)}")
        except duckdb.Error as exc:
            raise EngineError(f"cannot open DuckDB store {self.path}: {exc}") from exc

    @classmethod
    def from_connection(cls, con: duckdb.DuckDBPyConnection) -> DuckDBEngine:
        """An engine on an open DuckDB connection (an Ibis DuckDB backend's), not owned."""
        engine = cls.__new__(cls)
        engine.path = ":connection:"
        engine.con = con
        return engine

    def __repr__(self) -> str:
        return f"DuckDBEngine({self.path!r})"

    def reader(self) -> DuckDBEngine:
        """An engine on the same database through its own cursor: it reads a snapshot
        (DuckDB's MVCC) while this one writes, with no lock between them."""
        other = object.__new__(DuckDBEngine)
        other.path = self.path
        other.con = self.con.cursor()
        other.con.execute("SET TimeZone = 'UTC'")
        return other

    def query(self, sql: str) -> pa.Table:
        """Run a SELECT; errors become EngineError with the engine's message."""
        try:
            return self.con.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB query failed: {exc}") from exc

    def execute(self, sql: str) -> None:
        """Run a statement."""
        try:
            self.con.execute(sql)
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB statement failed: {exc}") from exc

    def memory_limit(self) -> int | None:
        """DuckDB's memory limit in bytes (``SET memory_limit``), None when not readable."""
        rows = self.con.execute("SELECT current_setting('memory_limit')").fetchall()
        match = re.fullmatch(
            r"\s*([\d.]+)\s*([KMGT]?i?B|bytes)\s*", str(rows[0][0]) if rows else ""
        )
        if match is None:
            return None
        unit = match.group(2)
        power = "BKMGT".index(unit[0]) if unit != "bytes" else 0
        base = 1024 if "i" in unit else 1000
        return int(float(match.group(1)) * base**power)

    def columns(self, table: str) -> dict[str, str] | None:
        """Columns of a table or view (None if absent)."""
        rows = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return {r[0]: r[1] for r in rows} or None

    def _ensure(self, schema: TableSchema, table: str, arrow: pa.Schema) -> None:
        """Create the table if needed and add any new attribute columns of the batch."""
        have = self.columns(table)
        if have is None:
            cols = ", ".join(f"{identifier(c.name)} {c.type}" for c in schema.columns)
            self.con.execute(f"CREATE TABLE {identifier(table)} ({cols})")
            have = {c.name: c.type for c in schema.columns}
        for field in arrow:
            if field.name not in have:
                sql_type = _ARROW_SQL.get(field.type, "VARCHAR")
                column = identifier(field.name)
                self.con.execute(f"ALTER TABLE {identifier(table)} ADD COLUMN {column} {sql_type}")

    def append(self, schema: TableSchema, batches: Iterable[pa.RecordBatch]) -> int:
        """Append batches, all or none: staged and merged, or straight into an empty table
        with its keys made unique at the end (see ``bulk``)."""
        with self.bulk() as bulk:
            bulk.add(schema, batches)
        return bulk.stored.get(schema.name, 0)

    @contextmanager
    def bulk(self, *, commit_rows: int = COMMIT_ROWS) -> Iterator[BulkWrite]:
        """Appends to several tables, all stored or none, committed on exit.

        A table empty when first touched is filled as a new table, its keys made unique there
        at the end (checked on a hash of the key first) and then put in the empty one's place,
        which is much faster than merging against stored rows; other tables are staged and
        merged as in ``append``. DuckDB holds a transaction's appends in memory, so every
        ``commit_rows`` rows the new tables are committed; the stored tables change only in the
        last transaction, so a failed load, even a killed process, leaves them as they were.
        """
        con = self.con
        con.execute("BEGIN TRANSACTION")
        bulk = BulkWrite(self, commit_rows)
        try:
            yield bulk
            bulk.finish()
            con.execute("COMMIT")
        except BaseException as exc:
            with suppress(duckdb.Error):
                con.execute("ROLLBACK")  # none is active when a COMMIT itself failed
            try:
                bulk.undo()
            except duckdb.Error as undo_error:
                raise EngineError(
                    f"loading {bulk.current} failed ({exc}), and dropping its work tables "
                    f"failed too: {undo_error}"
                ) from exc
            if isinstance(exc, duckdb.Error):
                raise EngineError(f"loading {bulk.current} failed: {exc}") from exc
            raise

    def _has_rows(self, table: str) -> bool:
        # fetchall: DuckDB 2 refuses the next statement while a result is unread.
        return bool(self.con.execute(f"SELECT 1 FROM {identifier(table)} LIMIT 1").fetchall())

    def _dedupe(self, schema: TableSchema, name: str) -> int:
        """Keep one row per key in a freshly filled table (the last given when replacing)."""
        table = identifier(name)
        assert schema.key is not None
        keys = ", ".join(identifier(k) for k in schema.key)
        not_null = " AND ".join(f"{identifier(k)} IS NOT NULL" for k in schema.key)
        # Distinct hashes mean distinct keys: the common case costs one grouping of integers
        # (a GROUP BY, which spills to disk, unlike a count of distinct values).
        rows = self.con.execute(
            f"SELECT 1 FROM {table} WHERE {not_null} GROUP BY hash({keys}) "
            "HAVING count(*) > 1 LIMIT 1"
        ).fetchall()
        if not rows:
            return 0
        keep = "max" if schema.replace else "min"
        return self._count(
            f"DELETE FROM {table} WHERE {not_null} AND rowid NOT IN "
            f"(SELECT {keep}(rowid) FROM {table} WHERE {not_null} GROUP BY {keys})"
        )

    def _merge(self, schema: TableSchema, stage: str) -> int:
        table = identifier(schema.name)
        if schema.key is None:
            return self._count(f"INSERT INTO {table} BY NAME FROM {stage}")
        keys = ", ".join(identifier(k) for k in schema.key)
        on = " AND ".join(f"t.{identifier(k)} = s.{identifier(k)}" for k in schema.key)
        if schema.replace:
            # The last row given for a key wins over the stored one.
            self.con.execute(
                f"DELETE FROM {table} WHERE ({keys}) IN (SELECT ({keys}) FROM {stage})"
            )
            return self._count(
                f"INSERT INTO {table} BY NAME SELECT DISTINCT ON ({keys}) * FROM {stage}"
            )
        not_null = " AND ".join(f"{identifier(k)} IS NOT NULL" for k in schema.key)
        # Rows without a key (events without an id) are appended as they come.
        return self._count(
            f"INSERT INTO {table} BY NAME "
            f"SELECT * FROM {stage} WHERE NOT ({not_null}) "
            f"UNION ALL BY NAME "
            f"SELECT * FROM (SELECT DISTINCT ON ({keys}) * FROM {stage} s WHERE {not_null}) s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})"
        )

    def _count(self, sql: str) -> int:
        rows = self.con.execute(sql).fetchall()
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        """Close the connection."""
        self.con.close()


class BulkWrite:
    """Appends collected inside ``DuckDBEngine.bulk``; ``stored`` counts rows per table."""

    def __init__(self, engine: DuckDBEngine, commit_rows: int = COMMIT_ROWS) -> None:
        self.engine = engine
        self.current = ""
        self.stored: dict[str, int] = {}
        self.commit_rows = commit_rows
        self.commits = 0  # step commits so far
        self._schemas: dict[str, TableSchema] = {}
        self._direct: set[str] = set()
        self._staged: set[str] = set()
        self._pending = 0

    @staticmethod
    def _work(name: str) -> str:
        """The new table an empty table's rows go to (persistent: committed in steps)."""
        return f"__shipit_bulk_{name}"

    @staticmethod
    def _stage(name: str) -> str:
        return f"__shipit_stage_{name}"

    def add(self, schema: TableSchema, batches: Iterable[pa.RecordBatch]) -> None:
        """Write batches for ``schema``'s table: to a new table when it was empty, else to its
        stage; the table itself changes in ``finish``."""
        eng, con, name = self.engine, self.engine.con, schema.name
        self.current = name
        if name not in self._schemas:
            self._schemas[name] = schema
            before = eng.columns(name)
            if before is None or not eng._has_rows(name):
                self._direct.add(name)
                work = identifier(self._work(name))
                con.execute(f"DROP TABLE IF EXISTS {work}")  # left by a killed load
                if before is not None:
                    con.execute(f"CREATE TABLE {work} AS FROM {identifier(name)} LIMIT 0")
        target = self._work(name) if name in self._direct else self._stage(name)
        for batch in batches:
            con.register("__shipit_batch", batch)
            try:
                if name in self._direct:
                    eng._ensure(schema, target, batch.schema)
                    n = eng._count(f"INSERT INTO {identifier(target)} BY NAME FROM __shipit_batch")
                    self.stored[name] = self.stored.get(name, 0) + n
                elif name not in self._staged:
                    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS FROM __shipit_batch")
                    self._staged.add(name)
                else:
                    eng._ensure(schema, target, batch.schema)
                    con.execute(f"INSERT INTO {target} BY NAME FROM __shipit_batch")
            finally:
                con.unregister("__shipit_batch")
            self._pending += batch.num_rows
            if self._pending >= self.commit_rows:
                con.execute("COMMIT")
                con.execute("BEGIN TRANSACTION")
                self._pending, self.commits = 0, self.commits + 1

    def finish(self) -> None:
        """Make keys unique in the new tables and put them in place; merge the staged ones."""
        eng, con = self.engine, self.engine.con
        for name in sorted(self._direct):
            self.current = name
            schema, work = self._schemas[name], self._work(name)
            if eng.columns(work) is None:
                continue  # no batch came
            if schema.key is not None and name in self.stored:
                self.stored[name] -= eng._dedupe(schema, work)
            con.execute(f"DROP TABLE IF EXISTS {identifier(name)}")
            con.execute(f"ALTER TABLE {identifier(work)} RENAME TO {identifier(name)}")
        for name in sorted(self._staged):
            self.current = name
            schema, stage = self._schemas[name], self._stage(name)
            have = eng.columns(name) or {}
            for column, sql_type in (eng.columns(stage) or {}).items():
                if column not in have:
                    con.execute(
                        f"ALTER TABLE {identifier(name)} ADD COLUMN {identifier(column)} {sql_type}"
                    )
            self.stored[name] = eng._merge(schema, stage)
            con.execute(f"DROP TABLE {stage}")

    def undo(self) -> None:
        """After a failure: drop the new tables and stages (the stored tables are as before)."""
        con = self.engine.con
        for name in self._direct:
            con.execute(f"DROP TABLE IF EXISTS {identifier(self._work(name))}")
        for name in self._staged:
            con.execute(f"DROP TABLE IF EXISTS {self._stage(name)}")
