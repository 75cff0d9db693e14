"""Loading CSV, Parquet, pandas and Arrow into the store, validated row by row.

Each batch is checked in an in-memory DuckDB (vectorized): a missing required field or a
value of the wrong type is reported with its 1-based row number and the reason, and the
whole load is refused, so a bad file leaves the store as it was.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shipit.errors import DataError, InputError, NotFoundError
from shipit.store.engine import Engine
from shipit.store.sql import identifier
from shipit.store.tables import TABLES, TableSchema

__all__ = ["BulkLoad", "Progress", "bulk_load", "detect_delimiter", "load", "read_batches"]

# (done, total) in bytes for CSV files and in rows otherwise.
Progress = Callable[[int, int], None]
BATCH_ROWS = 1_000_000
MAX_REASONS = 10
_ROW = "__shipit_row"
# Delimiters a CSV header is tried with, comma first (it wins a tie).
DELIMITERS = (",", ";", "\t", "|")


class _CountingFile(io.RawIOBase):
    """A read-only file that reports how many bytes were read (for the progress bar)."""

    def __init__(self, path: Path, progress: Progress | None) -> None:
        self._f = path.open("rb")
        self._total = path.stat().st_size
        self._done = 0
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._f.readinto(buffer)
        self._done += n or 0
        if self._progress is not None:
            self._progress(self._done, self._total)
        return n or 0

    def close(self) -> None:
        self._f.close()
        super().close()


def detect_delimiter(header: str) -> str:
    """The delimiter of a CSV file from its header line: the one of ``DELIMITERS`` that
    splits it most (column names seldom hold any), a comma when none does."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of a tie
    return best if counts[best] > 0 else ","


def read_batches(
    source: str | Path | pa.Table | pa.RecordBatch | Any,
    *,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
    null_values: Sequence[str] = (),
    delimiter: str | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of a CSV or Parquet file, a pandas DataFrame or an Arrow table.

    CSV columns are read as text and typed by validation, so that a bad value is reported
    with its row instead of failing the read. Only an empty CSV field is missing, unless
    ``null_values`` names more ("NA", "null"); the ``delimiter`` is detected from the
    header when not given (tab for ``.tsv``).
    """
    if isinstance(source, pa.RecordBatch):
        source = pa.Table.from_batches([source])
    if not isinstance(source, (str, Path, pa.Table)):
        if not hasattr(source, "to_records") or not hasattr(source, "columns"):
            raise InputError(
                f"cannot load a {type(source).__name__}: give a file, DataFrame or Arrow table"
            )
        source = pa.Table.from_pandas(source, preserve_index=False)
    if isinstance(source, pa.Table):
        done = 0
        for batch in source.to_batches(max_chunksize=batch_rows):
            done += batch.num_rows
            if progress is not None:
                progress(done, source.num_rows)
            yield batch
        return
    path = Path(source)
    if not path.is_file():
        raise NotFoundError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        pf = pq.ParquetFile(path)
        total, done = pf.metadata.num_rows, 0
        for batch in pf.iter_batches(batch_size=batch_rows):
            done += batch.num_rows
            if progress is not None:
                progress(done, total)
            yield batch
        return
    if suffix not in {".csv", ".tsv", ".txt"}:
        raise InputError(f"{path}: unknown file type {suffix!r} (use .csv or .parquet)")
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        first = f.readline().rstrip("\r\n")
    if delimiter is None:
        delimiter = "\t" if suffix == ".tsv" else detect_delimiter(first)
    if len(delimiter) != 1:
        raise InputError(f"a CSV delimiter is one character, got {delimiter!r}")
    header = next(csv.reader([first], delimiter=delimiter), None)
    if not header:
        raise DataError(f"{path}: the file is empty (a header row is needed)")
    raw = _CountingFile(path, progress)
    try:
        reader = pacsv.open_csv(
            io.BufferedReader(raw, buffer_size=1 << 20),
            read_options=pacsv.ReadOptions(block_size=64 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            # Text is read verbatim: only an empty field is NULL ("NA" is Namibia, and an
            # event id "NA" must stay an id); numeric columns are parsed by the checker.
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header},
                strings_can_be_null=True,
                null_values=["", *null_values],
                quoted_strings_can_be_null=True,
            ),
        )
        for batch in reader:
            yield batch
    except pa.ArrowInvalid as exc:
        shown = "tab" if delimiter == "\t" else repr(delimiter)
        raise DataError(
            f"{path}: not a valid CSV file with delimiter {shown} (give another with "
            f"--delimiter): {exc}"
        ) from exc
    finally:
        raw.close()


def load(
    engine: Engine,
    table: str,
    source: str | Path | pa.Table | Any,
    *,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
    null_values: Sequence[str] = (),
    delimiter: str | None = None,
) -> int:
    """Validate and append ``source`` to ``table`` as one atomic, idempotent batch.

    Returns the number of rows stored (rows already present are not counted). For CSV
    files, ``null_values`` and ``delimiter`` are as in ``read_batches``.

    >>> from shipit.store.duckdb import DuckDBEngine
    >>> import pyarrow as pa
    >>> e = DuckDBEngine(":memory:")
    >>> rows = pa.table({"unit_id": ["u1"], "event": ["buy"], "timestamp": ["2024-01-01"]})
    >>> load(e, "events", rows), load(e, "events", rows)
    (1, 1)
    """
    if table not in TABLES:
        raise InputError(f"unknown table {table!r}: use one of {sorted(TABLES)}")
    schema = TABLES[table]
    checker = _Checker(schema, engine.columns(table) or {})
    name = str(source) if isinstance(source, (str, Path)) else table
    batches = (
        checker.check(batch, name)
        for batch in read_batches(
            source,
            progress=progress,
            batch_rows=batch_rows,
            null_values=null_values,
            delimiter=delimiter,
        )
    )
    return engine.append(schema, batches)


class BulkLoad:
    """Loads into several tables as one atomic batch (see ``bulk_load``)."""

    def __init__(self, engine: Engine, write: Any) -> None:
        self._engine = engine
        self._write = write
        self._checkers: dict[str, _Checker] = {}

    def add(self, table: str, source: str | Path | pa.Table | Any) -> None:
        """Validate ``source`` and add it to ``table`` (stored when the bulk load ends)."""
        if table not in TABLES:
            raise InputError(f"unknown table {table!r}: use one of {sorted(TABLES)}")
        schema = TABLES[table]
        # A checker per source (its scratch database freed after), rows numbered from 1 in
        # each; the types of extra columns fixed by earlier sources carry over.
        checker = _Checker(schema, self._engine.columns(table) or {})
        if table in self._checkers:
            checker.types.update(self._checkers[table].types)
            self._checkers[table].con.close()
        self._checkers[table] = checker
        name = str(source) if isinstance(source, (str, Path)) else table
        self._write.add(schema, (checker.check(b, name) for b in read_batches(source)))

    @property
    def stored(self) -> dict[str, int]:
        """Rows stored per table (known once the bulk load has ended)."""
        return dict(self._write.stored)

    @property
    def commits(self) -> int:
        """Step commits so far (engines that commit in steps count them)."""
        return int(getattr(self._write, "commits", 0))


@contextmanager
def bulk_load(engine: Engine, *, commit_rows: int | None = None) -> Iterator[BulkLoad]:
    """Many validated loads into the tables, all stored or none, as fast as the store allows.

    On DuckDB, a table that was empty gets its rows inserted without a merge (the keys are
    made unique once at the end), which is what makes a 10M-user demo practical; the load
    is committed every ``commit_rows`` rows (the engine's default when None) to bound the
    memory a transaction holds, and taken out again if it then fails.

    >>> from shipit.store.duckdb import DuckDBEngine
    >>> e = DuckDBEngine(":memory:")
    >>> rows = pa.table({"unit_id": ["u1"], "event": ["buy"], "timestamp": ["2024-01-01"]})
    >>> with bulk_load(e) as bulk:
    ...     bulk.add("events", rows)
    ...     bulk.add("units", pa.table({"unit_id": ["u1"]}))
    >>> bulk.stored
    {'events': 1, 'units': 1}
    """
    bulk_method = getattr(engine, "bulk", None)
    if bulk_method is None:
        raise InputError(f"{type(engine).__name__} has no bulk loads; use load() per table")
    options = {} if commit_rows is None else {"commit_rows": commit_rows}
    with bulk_method(**options) as write:
        yield BulkLoad(engine, write)


def _sql_type(stored: str) -> str:
    """The loader's type for a stored column type, as any engine spells it."""
    t = stored.lower()
    if "timestamp" in t:
        return "TIMESTAMP"
    if any(w in t for w in ("float", "double", "decimal", "int", "real", "numeric")):
        return "DOUBLE"
    return "VARCHAR"


_SCRATCH: dict[int, duckdb.DuckDBPyConnection] = {}
_SCRATCH_LOCK = threading.Lock()


def _scratch() -> duckdb.DuckDBPyConnection:
    """This process's in-memory DuckDB for validation: a cursor on it costs ~0.2 ms where a
    new database costs ~20 ms, which small batches (the service's events) pay per load."""
    with _SCRATCH_LOCK:
        con = _SCRATCH.get(os.getpid())
        if con is None:
            con = _SCRATCH[os.getpid()] = duckdb.connect(":memory:")
        return con


class _Checker:
    """Validates batches and casts them to the table's types; types of extra columns are
    fixed by the stored table or, for a new column, by the first batch."""

    def __init__(self, schema: TableSchema, stored: dict[str, str]) -> None:
        self.schema = schema
        self.types: dict[str, str] = {c.name: c.type for c in schema.columns}
        self.types.update({k: _sql_type(v) for k, v in stored.items() if k not in self.types})
        self.offset = 0
        self.con = _scratch().cursor()
        self.con.execute("SET TimeZone = 'UTC'")

    def check(self, batch: pa.RecordBatch, source: str) -> pa.RecordBatch:
        start, self.offset = self.offset, self.offset + batch.num_rows
        names = batch.schema.names
        missing = [c.name for c in self.schema.columns if c.required and c.name not in names]
        if missing:
            raise DataError(
                f"{source}: required column {missing[0]!r} is missing "
                f"(columns found: {names}; required: "
                f"{[c.name for c in self.schema.columns if c.required]})"
                + (
                    "; the file may use another delimiter: name it with --delimiter"
                    if len(names) == 1 and any(d in names[0] for d in DELIMITERS)
                    else ""
                )
            )
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise DataError(f"{source}: column {dupes[0]!r} appears twice")
        rows = pa.array(range(start + 1, start + 1 + batch.num_rows), pa.int64())
        self.con.register("b", batch.append_column(_ROW, rows))
        try:
            for name in names:
                if name not in self.types:
                    self.types[name] = self._infer(name, batch.schema.field(name).type)
            self._reject_bad_rows(names, source)
            select = [self._cast(c.name, c.type, names) for c in self.schema.columns]
            select += [
                self._cast(n, self.types[n], names) for n in names if n not in self.schema.names
            ]
            out = self.con.sql(f"SELECT {', '.join(select)} FROM b").to_arrow_table()
        finally:
            self.con.unregister("b")
        return (
            out.combine_chunks().to_batches()[0]
            if out.num_rows
            else pa.RecordBatch.from_pylist([], out.schema)
        )

    def _infer(self, name: str, arrow_type: pa.DataType) -> str:
        if self.schema.extra == "VARCHAR":
            return "VARCHAR"
        if (
            pa.types.is_integer(arrow_type)
            or pa.types.is_floating(arrow_type)
            or pa.types.is_boolean(arrow_type)
        ):
            return "DOUBLE"
        if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
            col = identifier(name)
            row = self.con.execute(
                f"SELECT count({col}), count(TRY_CAST({col} AS DOUBLE)) FROM b"
            ).fetchone()
            return "DOUBLE" if row and row[0] > 0 and row[0] == row[1] else "VARCHAR"
        return "VARCHAR"

    def _typed(self, name: str, sql_type: str) -> str:
        col = identifier(name)
        if sql_type == "TIMESTAMP":
            # Offsets ("...Z", "+02:00") are honoured and the result is UTC.
            return f"CAST(TRY_CAST({col} AS TIMESTAMPTZ) AS TIMESTAMP)"
        return f"TRY_CAST({col} AS {sql_type})"

    def _cast(self, name: str, sql_type: str, present: list[str]) -> str:
        if name not in present:
            default = "0" if name == "phase" else "NULL"
            return f"CAST({default} AS {sql_type}) AS {identifier(name)}"
        return f"{self._typed(name, sql_type)} AS {identifier(name)}"

    def _reject_bad_rows(self, names: list[str], source: str) -> None:
        cases: list[str] = []
        for name in names:
            sql_type = self.types[name]
            col = identifier(name)
            fixed = self.schema.column(name)
            if fixed is not None and fixed.required:
                blank = f" OR trim(CAST({col} AS VARCHAR)) = ''" if sql_type == "VARCHAR" else ""
                cases.append(f"WHEN {col} IS NULL{blank} THEN '{name} is missing'")
            if sql_type != "VARCHAR":
                typed = self._typed(name, sql_type)
                shown = f"CAST({col} AS VARCHAR)"
                cases.append(
                    f"WHEN {col} IS NOT NULL AND {typed} IS NULL THEN "
                    f"'{name} ' || {shown} || ' is not a valid {sql_type}'"
                )
                if sql_type == "DOUBLE":
                    cases.append(
                        f"WHEN {col} IS NOT NULL AND NOT isfinite({typed}) THEN "
                        f"'{name} ' || {shown} || ' is not a finite number'"
                    )
        if not cases:
            return
        reason = f"CASE {' '.join(cases)} END"
        bad = self.con.execute(
            f"SELECT {_ROW}, reason, count(*) OVER () FROM "
            f"(SELECT {_ROW}, {reason} AS reason FROM b) WHERE reason IS NOT NULL "
            f"ORDER BY {_ROW} LIMIT {MAX_REASONS}"
        ).fetchall()
        if bad:
            total = bad[0][2]
            listed = "; ".join(f"row {r}: {why}" for r, why, _ in bad)
            more = f" (and {total - len(bad)} more)" if total > len(bad) else ""
            raise DataError(f"{source}: {total} bad row(s), nothing was loaded: {listed}{more}")
