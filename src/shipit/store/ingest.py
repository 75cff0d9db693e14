"""Ingestion whose cost does not grow with the store: a write-ahead log drained in bulk.

``IngestLog.append`` validates a batch, removes the rows whose key was already accepted
(``KeyIndex``: hashes in memory, rebuilt from the store and the log at start; never a scan
of the store), appends the batch as Arrow IPC to a segment file beside the store
(``store.segments``) and ``fdatasync``s it before it returns, so an acknowledged batch
survives ``kill -9``; batches arriving during a commit share the next write and fsync
(group commit).
``Drainer`` writes the logged batches into the DuckDB store in large transactions, each
recording the last log sequence number it holds in the same transaction (table
``__shipit_ingest``): after a crash the drain resumes from there, so every acknowledged
row is stored exactly once.

Reads see drained rows only; ``Drainer.flush()`` drains everything acknowledged so far
(analyses call it first), and ``IngestLog.pending()`` tells the lag.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from shipit.store.accept import (
    DEFAULT_MAX_PROPERTIES,
    Accepted,
    BatchValidator,
    _from_ipc,
    _to_ipc,
    check_properties,
)
from shipit.store.drainer import Drainer
from shipit.store.keyindex import KeyIndex
from shipit.store.segments import Record, SegmentFiles
from shipit.store.tables import TABLES

__all__ = [
    "DEFAULT_MAX_PROPERTIES",
    "Accepted",
    "DirectIngest",
    "Drainer",
    "IngestLog",
    "WalIngest",
    "check_properties",
    "log_path_for",
]


def log_path_for(store: str) -> Path:
    """Where the log of a DuckDB store file lives: a directory beside it."""
    return Path(f"{store}.ingest")


# Merges of the key index done inside a commit: up to this many keys (a few milliseconds);
# larger ones are done by ``IngestLog.compact_keys`` outside the commit lock.
INLINE_MERGE = 1 << 18


@dataclass
class _Pending:
    """A validated batch waiting for the group commit, and what the commit did with it."""

    table: str
    batch: pa.RecordBatch
    keys: pa.Array | None
    columns: dict[str, str]
    done: bool = False
    stored: int = 0
    seq: int | None = None
    error: BaseException | None = None


class IngestLog(BatchValidator):
    """The durable log of acknowledged batches, with the keys already accepted.

    Batches are validated under ``lock`` and committed in groups under ``_commit_lock``
    (records appended to segment files, one ``fdatasync`` a group); the drainer reads the
    bodies with ``pread``, concurrently with the writer, from an index in memory that a
    commit extends once its records are durable.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        stored_columns: Callable[[str], dict[str, str] | None] | None = None,
        max_properties: int = DEFAULT_MAX_PROPERTIES,
        synchronous: str = "FULL",
    ) -> None:
        self.path = Path(path)
        self.files = SegmentFiles(self.path, sync=synchronous.upper() in {"FULL", "EXTRA"})
        types = {n: (stored_columns(n) if stored_columns else None) or {} for n in TABLES}
        super().__init__(types, max_properties)
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._files_lock = threading.Lock()
        # Keys of the rows logged (drained or not); the drainer adds those of the store.
        self.keys = KeyIndex()
        self._records: list[Record] = []
        self._next = 1
        migrated = _migrate_sqlite(self.path, self.files)
        for record in self.files.scan():
            if record.seq >= self._next:  # (a migration cut short may have left a copy)
                self._replay(record)
        self._next = max(self._next, migrated + 1)
        self.warm()

    def _replay(self, record: Record) -> None:
        """Take a record found on disk back: its keys, its columns' types, its place."""
        schema = TABLES.get(record.table)
        self._records.append(record)
        self._next = max(self._next, record.seq + 1)
        if schema is None:
            return
        table = _from_ipc(self.files.read(record))
        for field in table.schema:
            if field.name not in schema.names:
                self._types[record.table].setdefault(field.name, _sql_type(field.type))
        if schema.key is not None:
            for batch in table.to_batches():
                self.keys.add(self._key_array(schema, batch))

    def append(self, table: str, data: pa.Table) -> Accepted:
        """Validate ``data`` (DataError naming the row), drop already-accepted keys and log
        the rest durably; return once committed.

        Group commit: batches that arrive while a commit is in progress wait for it, then one
        of them commits all of them with one write and one fsync."""
        schema = TABLES[table]
        with self.lock:
            batch, undo = self.validate(table, data)
            columns = self.new_columns(table, batch)
            self._types[table].update(columns)  # counted by the bound from now on
        keys = self._key_array(schema, batch) if schema.key is not None else None
        item = _Pending(table, batch, keys, columns)
        with self._queue_lock:
            self._queue.append(item)
        with self._commit_lock:
            if not item.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit(group)
        if item.error is not None:
            with self.lock:
                undo()
                for name in columns:
                    self._types[table].pop(name, None)
            raise item.error
        return Accepted(received=data.num_rows, stored=item.stored, seq=item.seq)

    def _commit(self, group: list[_Pending]) -> None:
        """Log every batch of ``group`` with one write (the caller holds the commit lock)."""
        mark, first = self.keys.mark(), self._next
        try:
            rows: list[tuple[int, str, int, float, bytes]] = []
            now = time.time()
            for item in group:
                batch = item.batch
                if item.keys is not None:
                    keep = self.keys.admit(item.keys)
                    if not keep.all():
                        batch = batch.filter(pa.array(keep, pa.bool_()))
                item.stored = batch.num_rows
                if batch.num_rows:
                    item.seq = self._next
                    self._next += 1
                    rows.append((item.seq, item.table, batch.num_rows, now, _to_ipc(batch)))
            if rows:
                records = self.files.append(rows)
                with self._index_lock:
                    self._records.extend(records)
            self.keys.compact(limit=INLINE_MERGE)
        except BaseException as exc:
            self.keys.rollback(mark)
            self._next = first
            for item in group:
                item.seq, item.error = None, exc
        finally:
            for item in group:
                item.done = True

    def compact_keys(self) -> None:
        """Do the key index's large merges (the drainer's thread calls this): each merge
        is built outside the commit lock and swapped in under it, so a commit never waits
        for millions of keys to be merged."""
        while True:
            with self._commit_lock:
                pair = self.keys.due_merge()
            if pair is None:
                return
            merged = self.keys.merge(*pair)
            with self._commit_lock:
                if not self.keys.replace(*pair, merged):
                    return

    # -- reading (the drainer) -----------------------------------------------------------

    def last_seq(self) -> int:
        """The newest sequence number committed (0 when none)."""
        with self._index_lock:
            return self._records[-1].seq if self._records else self._next - 1

    def skip_to(self, seq: int) -> None:
        """Number the next batch after ``seq`` (a store that drained a lost log)."""
        with self._commit_lock:
            self._next = max(self._next, seq + 1)

    def seed(self, table: str, batches: Any) -> None:
        """Accept the keys of rows already in the store (when the process starts)."""
        schema = TABLES[table]
        with self._commit_lock:
            self.keys.add_chunks(self._key_array(schema, batch) for batch in batches)

    def read(self, after: int, max_rows: int) -> list[tuple[int, str, bytes]]:
        """Committed batches after ``after``, in order, until ``max_rows`` rows (at least
        one); never waits on a commit."""
        with self._index_lock:
            records = [r for r in self._records if r.seq > after]
        out: list[tuple[int, str, bytes]] = []
        total = 0
        with self._files_lock:  # not while ``forget`` deletes a segment and its descriptor
            for record in records:
                out.append((record.seq, record.table, self.files.read(record)))
                total += record.rows
                if total >= max_rows:
                    break
        return out

    def backlog(self, after: int) -> tuple[int, float]:
        """Rows logged after ``after`` and when the oldest of them was logged (0 rows: now)."""
        with self._index_lock:
            records = [r for r in self._records if r.seq > after]
        if not records:
            return 0, time.time()
        return sum(r.rows for r in records), records[0].at

    def forget(self, through: int) -> None:
        """Drop logged batches up to ``through`` (they are in the store)."""
        with self._commit_lock:
            with self._index_lock:
                self._records = [r for r in self._records if r.seq > through]
                left = list(self._records)
            with self._files_lock:
                self.files.drop_through(through, left)

    def pending(self) -> dict[str, Any]:
        """The lag: batches and rows logged but not yet forgotten, age of the oldest."""
        with self._index_lock:
            records = list(self._records)
        oldest = min((r.at for r in records), default=None)
        return {
            "batches": len(records),
            "rows": sum(r.rows for r in records),
            "oldest_seconds": round(time.time() - oldest, 3) if oldest else 0.0,
        }

    def close(self) -> None:
        """Close the log's files."""
        with self._commit_lock:
            self.files.close()


def _sql_type(arrow_type: pa.DataType) -> str:
    """The store type of an extra column as the log holds it (DOUBLE or VARCHAR)."""
    return "DOUBLE" if pa.types.is_floating(arrow_type) else "VARCHAR"


def _migrate_sqlite(directory: Path, files: SegmentFiles) -> int:
    """Move the batches of a log kept by an earlier version (a SQLite database beside the
    store) into segment files, then delete it; the last sequence number it had used."""
    legacy = directory.with_name(directory.name + ".sqlite")
    if not legacy.exists():
        return 0
    con = sqlite3.connect(legacy)
    try:
        found = con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'batches'").fetchone()
        rows = con.execute("SELECT seq, tbl, rows, at, body FROM batches ORDER BY seq").fetchall()
    except sqlite3.Error:
        found, rows = None, []
    finally:
        con.close()
    if rows:
        files.append([(int(s), str(t), int(n), float(a), bytes(b)) for s, t, n, a, b in rows])
        files.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{legacy}{suffix}").unlink(missing_ok=True)
    return int(found[0]) if found else 0


class DirectIngest:
    """Batches written into the store before the reply (``:memory:`` and non-DuckDB stores)."""

    def __init__(self, engine: Any, lock: threading.Lock, max_properties: int) -> None:
        self.engine = engine
        self.lock = lock
        self.max_properties = max_properties

    def append(self, table: str, data: pa.Table) -> Accepted:
        """Validate and store ``data`` now (idempotent by the table's key)."""
        from shipit.store.loaders import load

        with self.lock:
            have = self.engine.columns(table)
            check_properties(TABLES[table], have, data.schema.names, self.max_properties)
            stored = int(load(self.engine, table, data))
        return Accepted(received=data.num_rows, stored=stored, seq=None)

    def flush(self) -> int:
        """Nothing to drain."""
        return 0

    def pending(self) -> dict[str, Any]:
        """Nothing is ever pending."""
        return {"mode": "direct", "batches": 0, "rows": 0, "oldest_seconds": 0.0}

    def close(self) -> None:
        """Nothing to release."""


class WalIngest:
    """The embedded default: ``IngestLog`` + ``Drainer`` on a DuckDB store file."""

    def __init__(
        self,
        engine: Any,
        lock: threading.Lock,
        *,
        max_properties: int,
        synchronous: str = "FULL",
        interval: float = 0.2,
    ) -> None:
        def stored(name: str) -> dict[str, str] | None:
            with lock:
                return engine.columns(name)  # type: ignore[no-any-return]

        self.log = IngestLog(
            log_path_for(engine.path),
            stored_columns=stored,
            max_properties=max_properties,
            synchronous=synchronous,
        )
        self.drainer = Drainer(self.log, engine, lock, interval=interval).start()
        self._closed = False

    def append(self, table: str, data: pa.Table) -> Accepted:
        """Log ``data`` durably; it reaches the store within the drain lag."""
        return self.log.append(table, data)

    def flush(self) -> int:
        """Drain everything acknowledged so far."""
        return self.drainer.flush()

    def pending(self) -> dict[str, Any]:
        """The drain lag, and the last drain error if any."""
        out = {"mode": "wal", **self.log.pending(), "drained_seq": self.drainer.drained}
        if self.drainer.error is not None:
            out["error"] = f"{type(self.drainer.error).__name__}: {self.drainer.error}"
        return out

    def close(self) -> None:
        """Drain what is left and close the log; closing twice is a no-op."""
        if self._closed:
            return
        self._closed = True
        self.drainer.stop()
        self.log.close()
