"""The analyses endpoints: run the library's analysis (here a stand-in module that returns
a fixed Analysis), keep the run, serve the latest, and show it on the dashboard."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from server.live import SPEC_YAML, Live, sample_analysis


@pytest.fixture
def live(live_in_thread: Live) -> Live:
    """The stand-in analysis replaces the library in the server's process: analyses in a
    thread (the worker process is tested in test_analysis_process.py)."""
    return live_in_thread


def test_run_then_fetch_latest(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []

    def analyze_registered(key: str, engine: Any, registry: Any) -> Any:
        calls.append((key, engine, registry))
        return sample_analysis()

    fake = types.ModuleType("shipit.analysis")
    fake.analyze_registered = analyze_registered  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "shipit.analysis", fake)
    with live.client(live.admin) as c:
        c.post("/v1/experiments", json={"yaml": SPEC_YAML})
        assert c.get("/v1/experiments/checkout/analyses/latest").status_code == 404
        c.post("/v1/experiments/checkout/start")
        run = c.post("/v1/experiments/checkout/analyses")
        assert run.status_code == 201, run.text
        assert run.json()["verdict"]["decision"] == "ship"
    services = live.app.state.services
    assert calls == [("checkout", services.reader()[0], services.registry)]
    with live.client(live.read) as c:
        latest = c.get("/v1/experiments/checkout/analyses/latest")
        assert latest.json() == run.json()
        assert c.post("/v1/experiments/checkout/analyses").status_code == 403
    with live.client(live.read) as c:
        page = c.get("/experiments/checkout").text
    assert "converted +5.0% [2.6%, 7.4%]" in page
