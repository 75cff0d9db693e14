"""Ingestion through Redis Streams: what several server replicas share at scale.

``RedisIngest.append`` validates a batch like the embedded log, then runs one Lua script
in Redis that adds its keys to a set and appends the batch (Arrow IPC) with the mask of
new rows to a stream, atomically: a retry anywhere is stored once. A writer thread (in the
process that owns the DuckDB store) reads the stream in large chunks and appends them to
the store in transactions that record the last stream id they hold (``__shipit_ingest``),
so a writer killed at any moment resumes exactly where its store stopped. Durability of
an acknowledged batch is Redis's: run it with ``appendonly yes`` and ``appendfsync
always`` (or ``everysec``, at most a second lost on power loss) for the guarantee of the
embedded log.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pyarrow as pa

from shipit.errors import EngineError
from shipit.store.accept import Accepted, BatchValidator, _from_ipc, _to_ipc
from shipit.store.drainer import OFFSETS
from shipit.store.sql import identifier
from shipit.store.tables import TABLES

__all__ = ["RedisIngest"]

# KEYS: the key set, the stream. ARGV: table, body, then one key per row ('' for none).
# Returns the mask of rows to keep ('1'/'0' per row) after appending the batch.
_APPEND = """
local mask = {}
local kept = 0
for i = 3, #ARGV do
  local k = ARGV[i]
  if k == '' or redis.call('SADD', KEYS[1], ARGV[1] .. ':' .. k) == 1 then
    mask[#mask + 1] = '1'; kept = kept + 1
  else
    mask[#mask + 1] = '0'
  end
end
local m = table.concat(mask)
if kept > 0 then
  redis.call('XADD', KEYS[2], '*', 'table', ARGV[1], 'body', ARGV[2], 'mask', m)
end
return m
"""


class RedisIngest(BatchValidator):
    """Batches acknowledged once in a Redis stream; drained into the store by a thread."""

    def __init__(
        self,
        engine: Any,
        lock: threading.Lock,
        *,
        url: str,
        stream: str = "shipit:ingest",
        max_properties: int = 64,
        interval: float = 0.2,
        max_rows: int = 500_000,
    ) -> None:
        try:
            import redis
        except ImportError as exc:
            raise EngineError("ingest = redis needs the redis package (pip install redis)") from exc
        self.redis: Any = redis.Redis.from_url(url)
        try:
            self.redis.ping()
        except redis.RedisError as exc:
            raise EngineError(f"cannot reach Redis at {url}: {exc}") from exc
        self.stream = stream
        self.keyset = f"{stream}:keys"
        self.engine = engine
        self.store_lock = lock
        self.interval = interval
        self.max_rows = max_rows
        with lock:
            types = {n: engine.columns(n) or {} for n in TABLES}
            engine.con.execute(
                f"CREATE TABLE IF NOT EXISTS {OFFSETS} (log VARCHAR PRIMARY KEY, seq BIGINT)"
            )
            engine.con.execute(
                f"CREATE TABLE IF NOT EXISTS {OFFSETS}_ids (log VARCHAR PRIMARY KEY, id VARCHAR)"
            )
            row = engine.con.execute(
                f"SELECT id FROM {OFFSETS}_ids WHERE log = ?", [f"redis:{stream}"]
            ).fetchall()
        super().__init__(types, max_properties)
        self.last_id = row[0][0] if row else "0-0"
        self._script: Any = self.redis.register_script(_APPEND)
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._drain_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="shipit-redis-writer", daemon=True)
        self._thread.start()

    def append(self, table: str, data: pa.Table) -> Accepted:
        """Validate ``data`` and append its new rows to the stream (atomic with the keys)."""
        schema = TABLES[table]
        with self.lock:
            batch, undo = self.validate(table, data)
            try:
                keys = self._keys(schema, batch) if schema.key else [None] * batch.num_rows
                args = [table, _to_ipc(batch), *("" if k is None else k for k in keys)]
                mask = self._script(keys=[self.keyset, self.stream], args=args)
            except BaseException:
                undo()
                raise
            self.learn(table, batch)
        stored = bytes(mask).count(b"1")
        return Accepted(received=data.num_rows, stored=stored, seq=None)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                moved = self.drain_once(block_ms=int(self.interval * 1000))
                self.error = None
            except Exception as exc:  # kept and retried: the stream still holds the rows
                self.error = exc
                moved = 0
                time.sleep(self.interval)
            if moved == 0 and self._stop.is_set():
                break

    def drain_once(self, block_ms: int | None = None) -> int:
        """Move one chunk of the stream into the store; the rows moved."""
        with self._drain_lock:
            got = self.redis.xread({self.stream: self.last_id}, count=1000, block=block_ms)
            if not got:
                return 0
            entries = got[0][1]
            by_table: dict[str, list[pa.Table]] = {}
            for _, fields in entries:
                table = fields[b"table"].decode()
                data = _from_ipc(fields[b"body"])
                keep = pa.array([c == ord("1") for c in fields[b"mask"]], pa.bool_())
                by_table.setdefault(table, []).append(data.filter(keep))
            through = entries[-1][0].decode()
            moved = 0
            con = self.engine.con
            with self.store_lock:
                con.execute("BEGIN TRANSACTION")
                try:
                    for table, parts in sorted(by_table.items()):
                        data = pa.concat_tables(parts, promote_options="permissive")
                        self.engine._ensure(replace(TABLES[table], key=None), table, data.schema)
                        con.register("__shipit_drain", data)
                        try:
                            con.execute(
                                f"INSERT INTO {identifier(table)} BY NAME FROM __shipit_drain"
                            )
                        finally:
                            con.unregister("__shipit_drain")
                        moved += data.num_rows
                    con.execute(
                        f"INSERT OR REPLACE INTO {OFFSETS}_ids VALUES (?, ?)",
                        [f"redis:{self.stream}", through],
                    )
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            self.last_id = through
        self.redis.xtrim(self.stream, minid=through, approximate=True)
        return moved or len(entries)

    def flush(self, timeout: float = 60.0) -> str:
        """Drain everything in the stream now; the last stream id stored."""
        deadline = time.monotonic() + timeout
        while self.drain_once() > 0:
            if time.monotonic() > deadline:
                raise TimeoutError("the Redis stream did not drain in time")
        return self.last_id

    def pending(self) -> dict[str, Any]:
        """The lag: entries in the stream after the last one stored."""
        info = self.redis.xinfo_stream(self.stream) if self.redis.exists(self.stream) else None
        last = info["last-generated-id"].decode() if info else self.last_id
        behind = len(self.redis.xrange(self.stream, min=f"({self.last_id}", count=10_000))
        out: dict[str, Any] = {
            "mode": "redis", "stream": self.stream, "batches": behind,
            "last_id": last, "drained_id": self.last_id,
        }  # fmt: skip
        if self.error is not None:
            out["error"] = f"{type(self.error).__name__}: {self.error}"
        return out

    def close(self) -> None:
        """Stop the writer after draining what is in the stream."""
        self._stop.set()
        self._thread.join(30)
        self.flush()
        self.redis.close()
