"""Ingestion whose cost does not grow with the store: a write-ahead log drained in bulk.

``IngestLog.append`` validates a batch, removes the rows whose key was already accepted
(``KeyIndex``: hashes in memory, rebuilt from the store and the log at start; never a scan
of the store), writes the batch as Arrow IPC into a SQLite database in WAL mode and
commits (``synchronous=FULL``: fsync'd) before it returns, so an acknowledged batch
survives ``kill -9``; batches arriving during a commit share the next one (group commit).
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
    """Where the log of a DuckDB store file lives: beside it."""
    return Path(f"{store}.ingest.sqlite")


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

    Batches are validated under ``lock`` and committed in groups under ``_commit_lock``;
    the drainer reads through its own connection (SQLite WAL mode: committed rows only,
    concurrently with the writer).
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute(f"PRAGMA synchronous={synchronous}")
        self.con.execute("PRAGMA cache_size=-131072")  # 128 MB of key pages
        self.con.executescript(
            """
            CREATE TABLE IF NOT EXISTS batches (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, rows INTEGER NOT NULL,
                at REAL NOT NULL, body BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS columns (
                tbl TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
                PRIMARY KEY (tbl, name)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;
            """
        )
        types = {n: (stored_columns(n) if stored_columns else None) or {} for n in TABLES}
        super().__init__(types, max_properties)
        for tbl, name, sql_type in self.con.execute("SELECT tbl, name, type FROM columns"):
            self._types.setdefault(tbl, {}).setdefault(name, sql_type)
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._reader = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._read_lock = threading.Lock()
        # Keys of the rows logged (drained or not); the drainer adds those of the store.
        self.keys = KeyIndex()
        for tbl, body in self.con.execute("SELECT tbl, body FROM batches"):
            schema = TABLES.get(tbl)
            if schema is not None and schema.key is not None:
                for batch in _from_ipc(body).to_batches():
                    self.keys.add(self._key_array(schema, batch))

    def append(self, table: str, data: pa.Table) -> Accepted:
        """Validate ``data`` (DataError naming the row), drop already-accepted keys and log
        the rest durably; return once committed.

        Group commit: batches that arrive while a commit is in progress wait for it, then one
        of them commits all of them in a single transaction (one fsync for the group)."""
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
        """Log every batch of ``group`` in one transaction (the caller holds the commit lock)."""
        con, mark = self.con, self.keys.mark()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                for item in group:
                    self._log_one(item)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            self.keys.compact()
        except BaseException as exc:
            self.keys.rollback(mark)
            for item in group:
                item.seq, item.error = None, exc
        finally:
            for item in group:
                item.done = True

    def _log_one(self, item: _Pending) -> None:
        """Insert one batch's keys, drop the rows already accepted, insert the batch."""
        con, batch = self.con, item.batch
        if item.keys is not None:
            keep = self.keys.admit(item.keys)
            if not keep.all():
                batch = batch.filter(pa.array(keep, pa.bool_()))
        for name, sql_type in item.columns.items():
            con.execute(
                "INSERT OR IGNORE INTO columns VALUES (?, ?, ?)", (item.table, name, sql_type)
            )
        item.stored = batch.num_rows
        if batch.num_rows:
            cur = con.execute(
                "INSERT INTO batches (tbl, rows, at, body) VALUES (?, ?, ?, ?)",
                (item.table, batch.num_rows, time.time(), _to_ipc(batch)),
            )
            item.seq = cur.lastrowid

    # -- reading (the drainer) -----------------------------------------------------------

    def last_seq(self) -> int:
        """The newest sequence number committed (0 when none)."""
        with self._read_lock:
            row = self._reader.execute("SELECT seq FROM sqlite_sequence WHERE name = 'batches'")
            found = row.fetchone()
        return int(found[0]) if found else 0

    def skip_to(self, seq: int) -> None:
        """Number the next batch after ``seq`` (a store that drained a lost log)."""
        with self._commit_lock:
            if self.last_seq() < seq:
                self.con.execute("DELETE FROM sqlite_sequence WHERE name = 'batches'")
                self.con.execute("INSERT INTO sqlite_sequence VALUES ('batches', ?)", (seq,))

    def seed(self, table: str, batches: Any) -> None:
        """Accept the keys of rows already in the store (when the process starts)."""
        schema = TABLES[table]
        with self._commit_lock:
            self.keys.add_chunks(self._key_array(schema, batch) for batch in batches)

    def read(self, after: int, max_rows: int) -> list[tuple[int, str, bytes]]:
        """Committed batches after ``after``, in order, until ``max_rows`` rows (at least
        one), through the reading connection (never waits on a commit)."""
        out: list[tuple[int, str, bytes]] = []
        total = 0
        with self._read_lock:
            cur = self._reader.cursor()
            for seq, tbl, rows, body in cur.execute(
                "SELECT seq, tbl, rows, body FROM batches WHERE seq > ? ORDER BY seq", (after,)
            ):
                out.append((int(seq), str(tbl), bytes(body)))
                total += int(rows)
                if total >= max_rows:
                    break
            cur.close()
        return out

    def forget(self, through: int) -> None:
        """Drop logged batches up to ``through`` (they are in the store)."""
        with self._commit_lock:
            self.con.execute("BEGIN IMMEDIATE")
            self.con.execute("DELETE FROM batches WHERE seq <= ?", (through,))
            self.con.execute("INSERT OR REPLACE INTO meta VALUES ('drained', ?)", (str(through),))
            self.con.execute("COMMIT")

    def pending(self) -> dict[str, Any]:
        """The lag: batches and rows logged but not yet forgotten, age of the oldest."""
        with self._read_lock:
            row = self._reader.execute(
                "SELECT count(*), coalesce(sum(rows), 0), min(at) FROM batches"
            ).fetchone()
        n, rows, oldest = row
        return {
            "batches": int(n),
            "rows": int(rows),
            "oldest_seconds": round(time.time() - oldest, 3) if oldest else 0.0,
        }

    def close(self) -> None:
        """Close the log."""
        with self._commit_lock:
            self._reader.close()
            self.con.close()


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
