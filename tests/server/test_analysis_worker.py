"""Analyses run off the request path: while one works the store for seconds, /healthz,
/readyz and event ingestion answer at once (a live server over HTTP), and the analysis
still sees every event acknowledged before it started."""

from __future__ import annotations

import sys
import threading
import time
import types
from typing import Any

import pytest

from server.live import SPEC_YAML, Live, sample_analysis

SECONDS = 3.0


def _event(i: int) -> dict[str, Any]:
    return {
        "event_id": f"e{i}",
        "unit_id": f"u{i}",
        "event": "purchase",
        "timestamp": "2026-11-01T00:00:00Z",
        "value": 1.0,
    }


@pytest.fixture
def live(live_in_thread: Live) -> Live:
    """The stand-in analysis replaces the library in the server's process: analyses in a
    thread (the worker process is tested in test_analysis_process.py)."""
    return live_in_thread


def test_probes_and_ingestion_answer_during_an_analysis(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    started = threading.Event()

    def analyze_registered(key: str, engine: Any, registry: Any) -> Any:
        seen["events"] = engine.query("SELECT count(*) AS n FROM events").column(0)[0].as_py()
        started.set()
        end = time.monotonic() + SECONDS
        while time.monotonic() < end:  # engine work, as a real analysis does
            engine.query("SELECT sum(hash(range)) AS s FROM range(5000000)")
        return sample_analysis()

    fake = types.ModuleType("shipit.analysis")
    fake.analyze_registered = analyze_registered  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "shipit.analysis", fake)
    with live.client(live.admin) as c:
        c.post("/v1/experiments", json={"yaml": SPEC_YAML})
        c.post("/v1/experiments/checkout/start")
    with live.client(live.sdk) as c:
        r = c.post("/v1/events", json={"events": [_event(i) for i in range(100)]})
        assert r.json()["stored"] == 100
    result: dict[str, Any] = {}

    def run() -> None:
        t0 = time.monotonic()
        with live.client(live.admin) as c:
            result["status"] = c.post("/v1/experiments/checkout/analyses").status_code
        result["seconds"] = time.monotonic() - t0

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(30)
    slowest = {"/healthz": 0.0, "/readyz": 0.0, "/v1/events": 0.0}
    with live.client(live.sdk) as c:
        for i in range(10):
            for path in ("/healthz", "/readyz"):
                t0 = time.monotonic()
                assert c.get(path).status_code == 200
                slowest[path] = max(slowest[path], time.monotonic() - t0)
            t0 = time.monotonic()
            r = c.post("/v1/events", json={"events": [_event(1000 + i)]})
            assert r.status_code == 200, r.text
            slowest["/v1/events"] = max(slowest["/v1/events"], time.monotonic() - t0)
        still_running = worker.is_alive()
    worker.join(60)
    assert result["status"] == 201
    assert still_running, "the analysis ended before the probes: make it longer"
    assert result["seconds"] >= SECONDS
    # Each answered in well under the analysis' time (the benchmark measures the p99).
    assert max(slowest.values()) < SECONDS / 3, slowest
    assert seen["events"] == 100  # drained before the analysis read
