"""What every ingestion path checks before it accepts a batch, and the batch's log form.

``BatchValidator`` holds the property bound (``check_properties``), the Arrow fast check of
an events batch, the loader's checker for everything else, and the keys of a batch;
``Accepted`` is what an append did; a logged batch is Arrow IPC (``_to_ipc``/``_from_ipc``).
Shared by the embedded log (``store.ingest``) and the Redis stream (``store.broker``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shipit.errors import InputError
from shipit.store.tables import TABLES, TableSchema

__all__ = ["DEFAULT_MAX_PROPERTIES", "Accepted", "BatchValidator", "check_properties"]

# Extra (property / attribute) columns a table may grow to through ingestion.
DEFAULT_MAX_PROPERTIES = 64
_KEY_SEP = "\x1f"


@dataclass(frozen=True)
class Accepted:
    """What ``IngestLog.append`` did with a batch."""

    received: int
    stored: int
    seq: int | None  # log sequence number of the batch (None: nothing new to log)

    @property
    def duplicates(self) -> int:
        """Rows whose key was already accepted (or repeated inside the batch)."""
        return self.received - self.stored


def _to_ipc(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


def _from_ipc(body: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(body)).read_all()


class BatchValidator:
    """Validation shared by the ingestion paths: property bound, Arrow fast check or the
    loader's checker, keys; the types of extra columns as accepted so far."""

    def __init__(self, types: dict[str, dict[str, str]], max_properties: int) -> None:
        self.max_properties = max_properties
        self.lock = threading.Lock()
        self._checkers: dict[str, Any] = {}
        self._types: dict[str, dict[str, str]] = {n: dict(types.get(n, {})) for n in TABLES}

    def validate(self, table: str, data: pa.Table) -> tuple[pa.RecordBatch, Callable[[], None]]:
        """The checked batch and an undo for the types it taught (call it on failure);
        the caller holds ``lock``."""
        schema = TABLES[table]
        self._check_properties(schema, data.schema.names)
        checker = self._checker(schema)
        checker.offset = 0
        before = dict(checker.types)

        def undo() -> None:
            checker.types.clear()
            checker.types.update(before)

        try:
            fast = self._fast_check(schema, data)
            batches = (
                [fast] if fast is not None else [checker.check(b, table) for b in data.to_batches()]
            )
        except BaseException:
            undo()
            raise
        batch = (
            pa.Table.from_batches(batches).combine_chunks().to_batches()[0]
            if len(batches) > 1
            else batches[0]
        )
        return batch, undo

    def warm(self) -> None:
        """Check a throwaway batch once (a checker of its own, nothing learnt): the first
        real batch then does not pay, while requests wait, for the checker's scratch
        database and the modules it imports on first use (about a second)."""
        from shipit.store.loaders import _Checker
        from shipit.store.sql import identifier

        identifier("warm")
        sample = pa.record_batch(
            {
                "event_id": ["w"], "unit_id": ["u"], "event": ["e"],
                "timestamp": ["2026-01-01T00:00:00Z"], "value": [1.0], "p": ["x"],
            }
        )  # fmt: skip
        _Checker(TABLES["events"], {}).check(sample, "warm-up")
        self._fast_check(TABLES["events"], pa.Table.from_batches([sample]))

    def new_columns(self, table: str, batch: pa.RecordBatch) -> dict[str, str]:
        """Extra columns of ``batch`` not accepted before, with their types."""
        types = self._checker(TABLES[table]).types
        return {n: types[n] for n in batch.schema.names if n not in self._types[table]}

    def learn(self, table: str, batch: pa.RecordBatch) -> None:
        """Remember the columns of an accepted batch."""
        self._types[table].update(self.new_columns(table, batch))

    def _checker(self, schema: TableSchema) -> Any:
        from shipit.store.loaders import _Checker

        checker = self._checkers.get(schema.name)
        if checker is None:
            checker = self._checkers[schema.name] = _Checker(schema, self._types[schema.name])
        return checker

    def _check_properties(self, schema: TableSchema, names: list[str]) -> None:
        """A new extra column beyond the bound is refused (422 naming it)."""
        check_properties(schema, self._types[schema.name], names, self.max_properties)

    def _fast_check(self, schema: TableSchema, data: pa.Table) -> pa.RecordBatch | None:
        """The checker's result computed with Arrow alone, for the common events batch
        (fixed columns already typed, known properties of their stored type, timestamps
        with an offset); None sends the batch to the full checker, which names bad rows."""
        if schema.name != "events" or not data.num_rows:
            return None
        types = self._types["events"]
        out: dict[str, Any] = {}
        try:
            for name in ("event_id", "unit_id", "event"):
                col = data.column(name)
                if col.type != pa.string() or (name != "event_id" and col.null_count):
                    return None
                trimmed = pc.utf8_length(pc.utf8_trim_whitespace(col))
                if name != "event_id" and pc.min(trimmed).as_py() == 0:
                    return None
                out[name] = col
            ts = pc.cast(data.column("timestamp"), pa.timestamp("us", "UTC"))
            if ts.null_count:
                return None
            out["timestamp"] = ts.cast(pa.timestamp("us"))
            value = data.column("value")
            if value.type != pa.float64():
                return None
            out["value"] = value
        except (KeyError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        for name in data.schema.names:
            if name in out:
                continue
            if name in schema.names or name.startswith("__"):
                return None
            col, known = data.column(name), types.get(name)
            if known is None:
                return None  # a new column: its type is inferred by the checker
            if pa.types.is_null(col.type):
                out[name] = col.cast(pa.float64() if known == "DOUBLE" else pa.string())
            elif (known == "DOUBLE" and col.type == pa.float64()) or (
                known == "VARCHAR" and col.type == pa.string()
            ):
                out[name] = col
            else:
                return None
        return pa.table(out).combine_chunks().to_batches()[0]

    def _key_array(self, schema: TableSchema, batch: pa.RecordBatch) -> pa.Array:
        """The key of every row as Arrow text (null: the row has no key), built by Arrow:
        the key column, or the key columns as text joined by a separator."""
        assert schema.key is not None
        cols = [batch.column(batch.schema.get_field_index(k)) for k in schema.key]
        text = [c if c.type == pa.string() else pc.cast(c, pa.string()) for c in cols]
        if len(text) == 1:
            return text[0]
        return pc.binary_join_element_wise(*text, _KEY_SEP)

    def _keys(self, schema: TableSchema, batch: pa.RecordBatch) -> list[str | None]:
        assert schema.key is not None
        cols = [batch.column(batch.schema.get_field_index(k)).to_pylist() for k in schema.key]
        if len(cols) == 1:
            return [None if v is None else str(v) for v in cols[0]]
        return [
            None if any(v is None for v in row) else _KEY_SEP.join(map(str, row))
            for row in zip(*cols, strict=True)
        ]


def check_properties(
    schema: TableSchema, have: dict[str, str] | None, names: list[str], limit: int
) -> None:
    """Refuse a batch whose new extra columns would pass ``limit`` (InputError naming one)."""
    extras = {n for n in (have or {}) if n not in schema.names}
    new = [n for n in names if n not in schema.names and n not in extras]
    room = limit - len(extras)
    if len(new) > room:
        what = "property" if schema.name == "events" else "attribute"
        raise InputError(
            f"{schema.name}: new {what} {new[max(room, 0)]!r} would make "
            f"{len(extras) + len(new)} {what} columns; the limit is {limit} "
            f"(SHIPIT_MAX_PROPERTY_COLUMNS); reuse an existing {what} or raise the limit"
        )
