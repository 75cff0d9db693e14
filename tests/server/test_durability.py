"""Ingestion loses nothing: the server process is killed (SIGKILL) in the middle of a stream
of event batches; after a restart and the client's retries, every acknowledged event — and
in fact every event — is stored exactly once."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from server.live import ProcessServer, free_port
from shipit.sdk import HttpTransport, ShipitClient
from shipit.sdk.transport import TransportResponse


class RecordingTransport(HttpTransport):
    """Remembers the event ids of every batch the server acknowledged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acked: list[str] = []
        self.lock = threading.Lock()

    def request(self, method: str, path: str, **kw: Any) -> TransportResponse:
        r = super().request(method, path, **kw)
        if path == "/v1/events" and r.status == 200:
            with self.lock:
                self.acked.extend(row["event_id"] for row in kw["json"]["events"])
        return r


@pytest.mark.slow
def test_killed_server_loses_no_acknowledged_event(tmp_path: Path) -> None:
    from shipit.registry.keys import KeyRepository

    database_url = f"sqlite:///{tmp_path / 'registry.db'}"
    store = str(tmp_path / "store.duckdb")
    token = KeyRepository.from_url(database_url).create("ingest", "sdk").token
    port = free_port()
    server = ProcessServer(port, database_url, store)
    server.start()
    url = f"http://127.0.0.1:{port}"
    transport = RecordingTransport(url, token, timeout=5.0)
    client = ShipitClient(
        url,
        token,
        transport=transport,
        start=False,
        batch_size=1000,
        max_retries=3,
        retry_seconds=0.05,
    )
    ids = [client.track("purchase", f"u{i % 997}", float(i % 13)) for i in range(8_000)]
    done = threading.Event()

    def send() -> None:
        deadline = time.monotonic() + 120
        while not client.flush() and time.monotonic() < deadline:
            time.sleep(0.05)
        done.set()

    sender = threading.Thread(target=send, daemon=True)
    try:
        sender.start()
        while len(transport.acked) < 2_000 and not done.is_set():
            time.sleep(0.002)
        acked_before_kill = len(transport.acked)
        server.kill()
        assert not done.is_set(), "the stream finished before the kill: make it longer"
        time.sleep(0.5)
        server.start()
        sender.join(150)
        assert done.is_set()
    finally:
        server.stop()
        transport.close()
    assert 0 < acked_before_kill < len(ids)
    con = duckdb.connect(store, read_only=True)
    rows = dict(con.execute("SELECT event_id, count(*) FROM events GROUP BY event_id").fetchall())
    con.close()
    assert all(rows.get(e) == 1 for e in transport.acked), "an acknowledged event is missing"
    assert set(rows) == set(ids)
    assert set(rows.values()) == {1}
    assert client.stats.dropped == 0
    assert client.stats.pending == 0


def test_killed_right_after_acknowledging_then_retried_stores_once(tmp_path: Path) -> None:
    """kill -9 just after the last reply (the drain is usually still behind): after the
    restart the log is drained, and a client resending every batch stores nothing twice."""
    import httpx

    from shipit.registry.keys import KeyRepository

    database_url = f"sqlite:///{tmp_path / 'registry.db'}"
    store = str(tmp_path / "store.duckdb")
    token = KeyRepository.from_url(database_url).create("ingest", "sdk").token
    port = free_port()
    server = ProcessServer(port, database_url, store)
    headers = {"Authorization": f"Bearer {token}"}
    batches = [
        [
            {"event_id": f"b{b}-{i}", "unit_id": f"u{i}", "event": "view",
             "timestamp": "2026-11-01T00:00:00Z", "properties": {"n": float(i)}}
            for i in range(500)
        ]
        for b in range(12)
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    server.start()
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=10) as c:
            for rows in batches:
                assert c.post("/v1/events", json={"events": rows}).json()["stored"] == 500
        server.kill()
        server.start()
        with httpx.Client(base_url=url, headers=headers, timeout=10) as c:
            for rows in batches:
                assert c.post("/v1/events", json={"events": rows}).json()["duplicates"] == 500
            assert c.post("/v1/ingest/flush").json()["rows"] == 0
    finally:
        server.stop()
    con = duckdb.connect(store, read_only=True)
    n, distinct = con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchone()
    con.close()
    assert (n, distinct) == (6_000, 6_000)
