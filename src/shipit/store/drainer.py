"""``Drainer``: moves the ingest log's batches into a DuckDB store in large transactions.

Each transaction also records the last log sequence number it holds (table
``__shipit_ingest``), so after a crash at any moment the drain resumes exactly there and
every logged row is stored once; the log forgets batches only after the store committed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from shipit.store.accept import _from_ipc
from shipit.store.sql import identifier
from shipit.store.tables import TABLES

if TYPE_CHECKING:
    from shipit.store.ingest import IngestLog

__all__ = ["OFFSETS", "Drainer"]

OFFSETS = "__shipit_ingest"
# Rows in one of DuckDB's row groups: a transaction appending at least that many writes
# them to the database file directly.
ROW_GROUP = 122_880


class Drainer:
    """Moves logged batches into a DuckDB store in large transactions (a daemon thread).

    ``lock`` is the store's writer lock; ``interval`` bounds the lag when traffic is low,
    ``gather`` when it is high (see ``_gather``).
    """

    def __init__(
        self,
        log: IngestLog,
        engine: Any,
        lock: threading.Lock,
        *,
        interval: float = 0.2,
        max_rows: int = 500_000,
        gather: float = 2.0,
    ) -> None:
        self.log = log
        self.engine = engine
        self.lock = lock
        self.interval = interval
        self.max_rows = max_rows
        self.gather = gather
        self.drained = self._stored_offset()
        log.skip_to(self.drained)
        log.forget(self.drained)  # in the store already (a crash before the log forgot them)
        self._seed()
        self._warm()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._drain_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="shipit-drainer", daemon=True)

    def _stored_offset(self) -> int:
        con = self.engine.con
        with self.lock:
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {OFFSETS} (log VARCHAR PRIMARY KEY, seq BIGINT)"
            )
            row = con.execute(f"SELECT seq FROM {OFFSETS} WHERE log = 'wal'").fetchall()
        return int(row[0][0]) if row else 0

    def _seed(self) -> None:
        """Give the log the keys of the rows in the store (so retries stay unique)."""
        for name, schema in TABLES.items():
            if schema.key is None or schema.replace or self.engine.columns(name) is None:
                continue
            cols = ", ".join(identifier(k) for k in schema.key)
            with self.lock:
                self.engine.con.execute("SET enable_progress_bar = false")
                reader = self.engine.con.sql(f"SELECT {cols} FROM {identifier(name)}")
                self.log.seed(name, reader.to_arrow_reader(100_000))

    def _warm(self) -> None:
        """Register a table once now: DuckDB imports its optional modules (pandas) on the
        first registration, which would hold the GIL for most of a second mid-traffic."""
        with self.lock:
            self.engine.con.register("__shipit_drain", pa.table({"x": pa.array([], pa.int8())}))
            self.engine.con.unregister("__shipit_drain")

    def start(self) -> Drainer:
        """Start draining in the background."""
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                moved = self.drain_once()
                self.log.compact_keys()
            except Exception as exc:  # kept and retried: the log still holds the rows
                self.error = exc
                moved = 0
            if moved < self.max_rows:
                # Not behind: let batches gather, so that under load each store transaction
                # (and its commit) carries many batches.
                self._gather()

    def _gather(self) -> None:
        """Wait one interval; then, while rows arrive fast enough to fill one of DuckDB's
        row groups within ``gather`` seconds, wait for the row group (written straight to
        the file, where smaller transactions go through DuckDB's WAL and a checkpoint)."""
        self._stop.wait(self.interval)
        while not self._stop.is_set():
            rows, oldest = self.log.backlog(self.drained)
            if not rows or rows >= ROW_GROUP:
                return
            age = max(time.time() - oldest, 1e-3)
            if age >= self.gather or rows / age * self.gather < ROW_GROUP:
                return
            self._stop.wait(min(self.interval, self.gather - age))

    def drain_once(self) -> int:
        """Move one chunk of the log into the store; the rows moved."""
        with self._drain_lock:
            items = self.log.read(self.drained, self.max_rows)
            if not items:
                return 0
            through = items[-1][0]
            by_table: dict[str, list[pa.Table]] = {}
            for _, tbl, body in items:
                by_table.setdefault(tbl, []).append(_from_ipc(body))
            moved = 0
            con = self.engine.con
            with self.lock:
                con.execute("BEGIN TRANSACTION")
                try:
                    for tbl, tables in sorted(by_table.items()):
                        data = pa.concat_tables(tables, promote_options="permissive")
                        # Keys were made unique when accepted: a plain append.
                        schema = replace(TABLES[tbl], key=None)
                        self.engine._ensure(schema, tbl, data.schema)
                        con.register("__shipit_drain", data)
                        try:
                            con.execute(
                                f"INSERT INTO {identifier(tbl)} BY NAME FROM __shipit_drain"
                            )
                        finally:
                            con.unregister("__shipit_drain")
                        moved += data.num_rows
                    con.execute(f"INSERT OR REPLACE INTO {OFFSETS} VALUES ('wal', ?)", [through])
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            self.drained = through
            self.error = None
        self.log.forget(through)
        return moved

    def flush(self, timeout: float = 60.0) -> int:
        """Drain everything acknowledged before the call; the sequence number reached."""
        target = self.log.last_seq()
        deadline = time.monotonic() + timeout
        while self.drained < target:
            if self.drain_once() == 0 and self.drained < target:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the ingest log did not drain to {target}")
                time.sleep(0.01)
        return self.drained

    def stop(self) -> None:
        """Stop the thread and drain what is left (a clean shutdown leaves the log empty)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)
        self.flush()
