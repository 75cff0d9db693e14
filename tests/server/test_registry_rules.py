"""The registry's rules over HTTP: racing starts, frozen hash slices and a frozen analysis plan."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from server.live import SPEC_YAML, Live

RUNNING_URL = "/v1/experiments/checkout"


def _start_checkout(c: httpx.Client, yaml: str = SPEC_YAML) -> None:
    assert c.post("/v1/experiments", json={"yaml": yaml}).status_code == 201
    assert c.post(f"{RUNNING_URL}/start").status_code == 200


@pytest.fixture
def slow_reads(live: Live) -> Iterator[None]:
    """Requests pause after each read of the experiments table, so that without one writer
    at a time two of them would both read before either writes."""
    engine = live.app.state.services.registry.engine

    def pause(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        reads = statement.lstrip().upper().startswith("SELECT") and "experiments" in statement
        if reads and threading.current_thread() is not threading.main_thread():
            time.sleep(0.15)

    sa.event.listen(engine, "after_cursor_execute", pause)
    yield
    sa.event.remove(engine, "after_cursor_execute", pause)


@pytest.mark.usefixtures("slow_reads")
def test_overlapping_starts_sent_at_once_start_only_one(live: Live) -> None:
    with live.client(live.admin) as c:
        for key, lo, hi in (("left", 0, 0.6), ("right", 0.5, 1)):
            yaml = SPEC_YAML.replace("key: checkout", f"key: {key}")
            yaml += f"namespace: {{name: checkout-page, range: [{lo}, {hi}]}}\n"
            assert c.post("/v1/experiments", json={"yaml": yaml}).status_code == 201
    barrier = threading.Barrier(2)
    codes: dict[str, int] = {}

    def start(key: str) -> None:
        with live.client(live.admin) as c:
            barrier.wait()
            codes[key] = c.post(f"/v1/experiments/{key}/start").status_code

    threads = [threading.Thread(target=start, args=(k,)) for k in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(codes.values()) == [200, 409], codes
    with live.client(live.admin) as c:
        running = c.get("/v1/experiments", params={"status": "running"}).json()
    assert len(running) == 1


def test_reordered_variants_are_refused_without_a_new_phase(live: Live) -> None:
    reordered = SPEC_YAML.replace(
        "  - {key: control, weight: 0.5}\n  - {key: green, weight: 0.5}\n",
        "  - {key: green, weight: 0.5}\n  - {key: control, weight: 0.5}\ncontrol: control\n",
    )
    assert reordered != SPEC_YAML
    with live.client(live.admin) as c:
        _start_checkout(c)
        r = c.put(RUNNING_URL, json={"yaml": reordered})
        assert r.status_code == 409, r.text
        assert "variants" in r.json()["detail"]
        assert "new phase" in r.json()["detail"]
        assert c.get(RUNNING_URL).json()["spec"]["variants"][0]["key"] == "control"
        r = c.put(RUNNING_URL, json={"yaml": reordered, "new_phase": True, "reason": "reorder"})
        assert r.status_code == 200, r.text
        assert r.json()["phase"] == 2


def test_analysis_plan_edits_of_a_running_experiment_need_a_new_phase(live: Live) -> None:
    swapped = SPEC_YAML.replace(
        "primary_metric: converted\nsecondary_metrics: [revenue]",
        "primary_metric: revenue\nsecondary_metrics: [converted]",
    )
    stricter = SPEC_YAML + "analysis: {alpha: 0.01}\n"
    forced = SPEC_YAML + "forced: {qa-1: green, qa-2: control}\nexclude: [bot-1]\n"
    with live.client(live.admin) as c:
        _start_checkout(c)
        for edited, field in ((swapped, "primary_metric"), (stricter, "analysis.alpha")):
            r = c.put(RUNNING_URL, json={"yaml": edited})
            assert r.status_code == 409, r.text
            assert field in r.json()["detail"]
        assert c.get(RUNNING_URL).json()["spec"]["primary_metric"] == "converted"
        r = c.put(RUNNING_URL, json={"yaml": forced})
        assert r.status_code == 409
        r = c.put(RUNNING_URL, json={"yaml": forced, "new_phase": True, "reason": "QA accounts"})
        assert r.status_code == 200, r.text
        assert r.json()["phase"] == 2
        last = c.get(f"{RUNNING_URL}/history").json()[-1]
        assert last["detail"]["units_moved"] == {"forced": 2, "exclude": 1}
        assert last["detail"]["phase"] == {"number": 2, "reason": "QA accounts"}
