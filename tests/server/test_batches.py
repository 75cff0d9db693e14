"""The column-wise check of event batches accepts only what the pydantic schema accepts,
and gives the same rows (checked on generated bodies, valid and not)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shipit.server.batches import events_table
from shipit.server.routes.ingest import events_from_model
from shipit.server.schemas import EventsBatch

texts = st.one_of(st.text(min_size=0, max_size=5), st.integers(-(2**70), 2**62), st.none())
stamps = st.sampled_from(
    ["2026-11-01T12:00:00Z", "2026-11-01T12:00:00+02:00", "2026-11-01 12:00:00.5Z",
     "2026-11-01T12:00", "2026-02-30T00:00:00Z", "yesterday", "", 5]
)  # fmt: skip
values = st.one_of(st.none(), st.floats(allow_nan=False), st.integers(-5, 5), st.booleans())
props = st.dictionaries(
    st.sampled_from(["country", "plan", "value", "__x", "bad name"]),
    st.one_of(st.none(), st.text(max_size=3), st.floats(-1e3, 1e3), st.booleans()),
    max_size=3,
)


@st.composite
def rows(draw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "event_id": draw(texts), "unit_id": draw(texts), "event": draw(texts),
        "timestamp": draw(stamps),
    }  # fmt: skip
    if draw(st.booleans()):
        row["value"] = draw(values)
    if draw(st.booleans()):
        row["properties"] = draw(props)
    if draw(st.integers(0, 20)) == 0:
        row["extra"] = 1
    if draw(st.integers(0, 20)) == 0:
        del row["unit_id"]
    return row


def _utc(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(st.lists(rows(), min_size=1, max_size=6))
def test_fast_path_agrees_with_the_schema(batch: list[dict[str, Any]]) -> None:
    raw = json.dumps({"events": batch}).encode()
    fast = events_table(raw, 1000)
    if fast is None:
        return  # the caller uses the schema: same result by construction
    try:
        model = EventsBatch.model_validate_json(raw)
    except ValidationError as exc:
        raise AssertionError(f"the fast path accepted what the schema refuses: {exc}") from exc
    slow = events_from_model(model).to_pylist()
    got = fast.to_pylist()
    assert len(got) == len(slow)
    for a, b in zip(got, slow, strict=True):
        assert _utc(a.pop("timestamp")) == _utc(b.pop("timestamp"))
        assert {k: v for k, v in a.items() if v is not None} == {
            k: v for k, v in b.items() if v is not None
        }


def test_a_usual_batch_takes_the_fast_path() -> None:
    rows = [
        {"event_id": f"e{i}", "unit_id": "u", "event": "buy", "timestamp": "2026-11-01T00:00:00Z",
         "value": i, "properties": {"country": "fr"} if i else {}}
        for i in range(3)
    ]  # fmt: skip
    table = events_table(orjson.dumps({"events": rows}), 10)
    assert table is not None
    assert table.column("value").to_pylist() == [0.0, 1.0, 2.0]
    assert table.column("country").to_pylist() == [None, "fr", "fr"]
    assert events_table(orjson.dumps({"events": rows}), 2) is None  # over the limit
