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


def test_the_worker_restarts_after_its_process_dies_and_errors_come_back(
    tmp_path: Path,
) -> None:
    import signal
    from contextlib import nullcontext

    import yaml

    from shipit.analysis.remote import AnalysisRequest
    from shipit.errors import DataError
    from shipit.server.worker import AnalysisWorker
    from shipit.spec import Experiment
    from shipit.store.duckdb import DuckDBEngine
    from shipit.store.remote import engine_info

    fill(tmp_path / "store.duckdb", 1_000)
    store = DuckDBEngine(tmp_path / "store.duckdb")
    experiment = Experiment.model_validate(yaml.safe_load(SPEC_YAML))
    request = AnalysisRequest(experiment, engine_info(store), {"phase": 1})
    worker = AnalysisWorker(niceness=0)
    try:
        first = worker.analyze(request, store.reader(), nullcontext())
        assert '"experiment":"checkout"' in first.replace(" ", "")
        dead = worker.pid
        assert worker.last_pid == dead
        assert dead != os.getpid()
        assert dead is not None
        os.kill(dead, signal.SIGKILL)
        worker._proc.join(10)  # gone before the next analysis asks for it
        again = worker.analyze(request, store.reader(), nullcontext())
        assert again == first  # a new process, the same analysis
        assert worker.pid != dead
        assert worker.last_pid == worker.pid
        absent = AnalysisRequest(
            experiment.model_copy(update={"key": "absent"}), engine_info(store), {"phase": 1}
        )
        with pytest.raises(DataError, match="'absent' has no exposures"):
            worker.analyze(absent, store.reader(), nullcontext())
        assert worker.running is False
    finally:
        worker.close()
        store.close()
    assert worker._proc is None
