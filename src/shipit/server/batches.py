"""Event batches validated by column, not by a pydantic object per row.

``events_table(raw)`` parses a ``POST /v1/events`` body with Arrow's JSON reader (in C++,
outside the GIL, no Python object per row; orjson for a body it cannot read, such as
numbers and text mixed in one property) and checks it column by column with Arrow: the
fixed fields' types, lengths and presence, the timestamps' ISO 8601 form, finite values,
property names and types. It accepts only bodies that the pydantic schema ``EventsBatch``
accepts too, and answers ``None`` for anything else, so that the caller falls back to
``EventsBatch`` for the exact 422 naming the row and field: errors are rare and may be
slow, the common case is fast.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from shipit.server.schemas import NAME

__all__ = ["events_table"]

_FIXED = ("event_id", "unit_id", "event", "timestamp", "value")
_TEXT = ("event_id", "unit_id", "event")
_ALLOWED = {*_FIXED, "properties"}
_RESERVED = set(_FIXED)
_NAME = re.compile(NAME)
# The ISO 8601 forms pydantic parses as datetimes (date, 'T' or ' ', seconds, fraction,
# and 'Z' or an offset).
_ISO = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
    r"(Z|[+-]\d{2}:\d{2})?$"
)


def _text_ok(col: pa.ChunkedArray) -> bool:
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return False
    if col.null_count:
        return False
    lengths = pc.utf8_length(col)
    return bool(pc.min(lengths).as_py() >= 1 and pc.max(lengths).as_py() <= 256)


def _number(col: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """A float column for a numeric or all-null one (None when not numeric or not finite)."""
    if pa.types.is_null(col.type):
        return col.cast(pa.float64())
    if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
        return None
    out = col.cast(pa.float64())
    finite = pc.is_finite(out)
    if col.null_count < len(col) and not pc.all(finite).as_py():  # nulls skipped
        return None
    return out


# The fixed fields' types for Arrow's reader (timestamps kept as text for the ISO check
# below); a missing field reads as null, which the checks refuse where pydantic would.
_EVENT = pa.struct([(n, pa.string()) for n in (*_TEXT, "timestamp")] + [("value", pa.float64())])
_PARSE = pj.ParseOptions(
    explicit_schema=pa.schema([("events", pa.list_(_EVENT))]),
    unexpected_field_behavior="infer",
    newlines_in_values=False,
)
_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError)


def _read_arrow(raw: bytes) -> pa.StructArray | None:
    """The rows of a one-line ``{"events": [...]}`` body, parsed by Arrow (None: it
    cannot, e.g. a field whose type changes between rows, or a body over several lines)."""
    try:
        options = pj.ReadOptions(block_size=len(raw) + 64, use_threads=False)
        doc = pj.read_json(pa.py_buffer(raw), read_options=options, parse_options=_PARSE)
    except _ERRORS:
        return None
    if doc.num_rows != 1 or doc.schema.names != ["events"]:
        return None
    events = doc.column("events").combine_chunks()
    if events.null_count:
        return None
    rows = events.flatten()
    return rows if pa.types.is_struct(rows.type) else None


def _read_orjson(raw: bytes, max_rows: int) -> pa.StructArray | None:
    """The rows of the body through orjson and Python objects (None: not an events body)."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict or len(doc) != 1 or "events" not in doc:
        return None
    rows = doc["events"]
    if type(rows) is not list or not rows or len(rows) > max_rows:
        return None
    try:
        # pa.array infers the type from every row (from_pylist: from the first one only).
        rows_array = pa.array(rows)
    except _ERRORS:
        return None
    return rows_array if pa.types.is_struct(rows_array.type) else None


def events_table(raw: bytes, max_rows: int) -> pa.Table | None:
    """The events of a body as an Arrow table (properties as columns), or None when the
    body needs the row-by-row validator (it is invalid, or unusual)."""
    rows_array = _read_arrow(raw)
    if rows_array is None:
        rows_array = _read_orjson(raw, max_rows)
    if rows_array is None or rows_array.null_count:
        return None
    if not 0 < len(rows_array) <= max_rows:
        return None
    table = pa.Table.from_struct_array(rows_array)
    names = table.schema.names
    if not set(names) <= _ALLOWED or any(n not in names for n in (*_TEXT, "timestamp")):
        return None
    for name in _TEXT:
        if not _text_ok(table.column(name)):
            return None
    ts = table.column("timestamp")
    if not pa.types.is_string(ts.type) or ts.null_count:
        return None
    if not pc.all(pc.match_substring_regex(ts, _ISO)).as_py():
        return None
    columns: dict[str, Any] = {n: table.column(n) for n in (*_TEXT, "timestamp")}
    if "value" in names:
        value = _number(table.column("value"))
        if value is None:
            return None
        columns["value"] = value
    else:
        columns["value"] = pa.nulls(table.num_rows, pa.float64())
    if "properties" in names:
        props = table.column("properties")
        if pa.types.is_null(props.type):
            pass
        elif not pa.types.is_struct(props.type):
            return None
        else:
            flat = props.combine_chunks()
            for i, field in enumerate(props.type):
                name = field.name
                if not _NAME.match(name) or len(name) > 64:
                    return None
                if name in _RESERVED or name.startswith("__"):
                    return None
                child = pc.struct_field(flat, [i])
                if pa.types.is_string(child.type) or pa.types.is_null(child.type):
                    columns[name] = child
                else:
                    number = _number(pa.chunked_array([child]))
                    if number is None:
                        return None
                    columns[name] = number
    return pa.table(columns)
