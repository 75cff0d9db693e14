"""The SDK against a real server: one bad row in a background batch costs only that row,
and every row not stored is counted in ``stats``."""

from __future__ import annotations

import math
from typing import Any

import duckdb
import pytest

from server.live import SPEC_YAML, Live
from shipit.sdk import ShipitClient


def _event(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"e{i}",
        "unit_id": f"u{i}",
        "event": "purchase",
        "timestamp": "2026-11-01T00:00:00+00:00",
        "value": float(i),
        **extra,
    }


def _stored(live: Live) -> int:
    live.release_store()
    con = duckdb.connect(live.store, read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM events").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


@pytest.mark.parametrize(
    "bad",
    [
        {"value": math.nan},  # the batch cannot even be encoded as JSON
        {"unit_id": "u" * 5000},  # the server refuses the row (422)
        {"properties": {"cart": {"items": [1, 2]}}},  # nested property (422)
    ],
    ids=["nan", "long-unit-id", "nested-property"],
)
def test_one_bad_row_costs_only_itself(live: Live, bad: dict[str, Any]) -> None:
    client = ShipitClient(live.url, live.sdk, start=False, retry_seconds=0, batch_size=1000)
    rows = [_event(i) for i in range(500)]
    rows.insert(250, _event(999_999, **bad))
    # A row that slipped past track() (an older client, a bug): queued as the SDK would.
    client._events.put(rows)
    assert client.flush()
    stats = client.stats
    assert stats.events_sent == 500
    assert stats.rejected == 1
    assert stats.pending == 0
    assert stats.events_sent + stats.lost == len(rows)
    client.close()
    assert _stored(live) == 500


def test_exposures_of_unregistered_experiments_are_counted_not_lost_silently(live: Live) -> None:
    with live.client(live.admin) as c:
        assert c.post("/v1/experiments", json={"yaml": SPEC_YAML}).status_code == 201
    client = ShipitClient(live.url, live.sdk, start=False, retry_seconds=0)
    good = [
        {"experiment": "checkout", "phase": 1, "unit_id": f"u{i}", "variant": "green",
         "timestamp": "2026-11-01T00:00:00+00:00"}
        for i in range(40)
    ]  # fmt: skip
    ghost = {**good[0], "experiment": "no-such-experiment"}
    client._exposures.put([*good[:20], ghost, *good[20:]])
    assert client.flush()
    assert (client.stats.exposures_sent, client.stats.rejected) == (40, 1)
    client.close()
