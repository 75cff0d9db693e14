"""A real analysis runs in the worker process: while it works for seconds on a store of
many units, /healthz, /readyz and ingestion answer, its SQL is run by the server's process
(on the store it owns) and its Python by another process."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from server.conftest import serve
from server.live import SPEC_YAML, Live

UNITS = 400_000


def fill(store: Path, units: int) -> None:
    """Exposures of ``units`` units of ``checkout`` in phase 1, a purchase for a quarter."""
    from shipit.store.duckdb import DuckDBEngine

    e = DuckDBEngine(store)
    e.execute(
        "CREATE TABLE exposures AS SELECT 'checkout' AS experiment, 1::INTEGER AS phase, "
        "'u' || range AS unit_id, "
        "CASE WHEN hash(range) % 2 = 0 THEN 'control' ELSE 'green' END AS variant, "
        "CAST(current_timestamp AS TIMESTAMP) + INTERVAL 1 HOUR + range * INTERVAL 1 SECOND "
        f"AS timestamp FROM range({units})"
    )
    e.execute(
        "CREATE TABLE events AS SELECT 'p-' || range AS event_id, "
        f"'u' || (range * 7 % {units}) AS unit_id, 'purchase' AS event, "
        "CAST(current_timestamp AS TIMESTAMP) + INTERVAL 2 HOUR + range * INTERVAL 1 SECOND "
        f"AS timestamp, (range % 13)::DOUBLE AS value FROM range({units // 4})"
    )
    e.close()


@pytest.fixture
def big(tmp_path: Path) -> Iterator[Live]:
    """A live server (analyses in the worker process) on a store of ``UNITS`` units."""
    fill(tmp_path / "store.duckdb", UNITS)
    yield from serve(tmp_path)


def _exposure(i: int) -> dict[str, Any]:
    at = datetime.now(UTC) + timedelta(hours=1)
    return {"experiment": "checkout", "unit_id": f"late{i}", "variant": "control",
            "timestamp": at.isoformat(), "phase": 1}  # fmt: skip


def test_a_real_analysis_runs_in_the_worker_process_while_probes_answer(big: Live) -> None:
    worker = big.app.state.services.worker
    assert worker is not None  # the default: analyses in a process
    with big.client(big.admin) as c:
        c.post("/v1/experiments", json={"yaml": SPEC_YAML}).raise_for_status()
        c.post("/v1/experiments/checkout/start").raise_for_status()
    with big.client(big.sdk) as c:
        r = c.post("/v1/exposures", json={"exposures": [_exposure(i) for i in range(10)]})
        assert r.json()["stored"] == 10  # acknowledged before the analysis: it counts them
    result: dict[str, Any] = {}

    def run() -> None:
        with big.client(big.admin) as c:
            result["response"] = c.post("/v1/experiments/checkout/analyses", timeout=600)

    thread = threading.Thread(target=run)
    thread.start()
    during: list[str] = []  # probes made wholly while the analysis ran in the worker
    answered = 0
    with big.client(big.sdk) as c:
        while thread.is_alive():
            began = worker.running and worker.calls > 0
            for path in ("/healthz", "/readyz"):
                assert c.get(path).status_code == 200
            r = c.post("/v1/exposures", json={"exposures": [_exposure(100 + answered)]})
            assert r.status_code == 200, r.text
            answered += 1
            if began and worker.running and thread.is_alive():
                during.append("probe")
    thread.join()
    response = result["response"]
    assert response.status_code == 201, response.text
    assert sum(response.json()["units"].values()) >= UNITS + 10
    # The Python of the analysis ran in the worker process, its SQL in the server's.
    assert worker.pid is not None
    assert worker.pid != os.getpid()
    assert worker.last_pid == worker.pid
    assert worker.calls > 0
    assert during, "no probe was answered while the analysis ran: make it longer"
