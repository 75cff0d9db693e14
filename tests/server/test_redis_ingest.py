"""A live server with ``ingest = "redis"``: batches go through the real Redis stream and
reach the store once (skipped without Redis, a failure under CI=true)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from server.conftest import serve
from server.live import Live

pytestmark = pytest.mark.redis
URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_live(tmp_path: Path) -> Iterator[Live]:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {URL}: {exc}")
    stream = f"shipit-test:{uuid.uuid4().hex}"
    yield from serve(tmp_path, ingest="redis", redis_url=URL, redis_stream=stream)
    client.delete(stream, f"{stream}:keys")
    client.close()


def test_events_through_redis_are_stored_once(redis_live: Live) -> None:
    rows = [
        {"event_id": f"e{i}", "unit_id": f"u{i}", "event": "buy",
         "timestamp": "2026-11-01T00:00:00Z", "value": 1.0}
        for i in range(20)
    ]  # fmt: skip
    with redis_live.client(redis_live.sdk) as c:
        assert c.post("/v1/events", json={"events": rows}).json()["stored"] == 20
        assert c.post("/v1/events", json={"events": rows[:5]}).json()["duplicates"] == 5
        assert c.post("/v1/ingest/flush").json()["mode"] == "redis"
    redis_live.release_store()
    con = duckdb.connect(redis_live.store, read_only=True)
    n, distinct = con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchone()
    con.close()
    assert (n, distinct) == (20, 20)
