"""Several uvicorn workers share a registry and a store on PostgreSQL: batches sent through
fresh connections (spread over the workers by the kernel) are stored once each, a batch
retried through another connection adds nothing, and any worker analyses them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest

from pgschema import pg_schema
from server.live import SPEC_YAML, free_port, wait_ready

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

UNITS = 2_000
BATCH = 200


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """``uvicorn --workers 2`` on a fresh PostgreSQL schema: (url, admin key, sdk key)."""
    from shipit.registry.keys import KeyRepository

    schemas = pg_schema()
    registry = next(schemas)
    schema = registry.rsplit("%3D", 1)[1]
    store = f"postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    keys = KeyRepository.from_url(registry)
    admin, sdk = keys.create("admin", "admin").token, keys.create("sdk", "sdk").token
    keys.engine.dispose()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPIT_")}
    src = Path(__file__).resolve().parents[2] / "src"
    env.update(
        PYTHONPATH=os.pathsep.join([str(src), *sys.path]),
        SHIPIT_DATABASE_URL=registry,
        SHIPIT_STORE=store,
        SHIPIT_INGEST="direct",
    )
    argv = [sys.executable, "-m", "uvicorn", "--factory", "shipit.server:create_app",
            "--workers", "2", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env)
    try:
        wait_ready(f"http://127.0.0.1:{port}", timeout=60, proc=proc)
        yield f"http://127.0.0.1:{port}", admin, sdk
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        for _ in schemas:
            pass


def _post(url: str, key: str, path: str, body: dict[str, object]) -> httpx.Response:
    """One request on a connection of its own, so the workers share the stream."""
    headers = {"Authorization": f"Bearer {key}", "Connection": "close"}
    return httpx.post(f"{url}{path}", json=body, headers=headers, timeout=60)


def test_two_workers_store_each_batch_once_and_analyse(two_workers: tuple[str, str, str]) -> None:
    url, admin, sdk = two_workers
    assert _post(url, admin, "/v1/experiments", {"yaml": SPEC_YAML}).status_code == 201
    assert _post(url, admin, "/v1/experiments/checkout/start", {}).status_code == 200
    rng = np.random.default_rng(3)
    now = datetime.now(UTC)
    later = (now + timedelta(minutes=5)).isoformat()
    units = [f"user-{i}" for i in range(UNITS)]
    variants = rng.choice(["control", "green"], UNITS)
    exposures = [{"experiment": "checkout", "unit_id": u, "variant": str(v),
                  "timestamp": now.isoformat(), "phase": 1}
                 for u, v in zip(units, variants, strict=True)]  # fmt: skip
    events = [{"event_id": uuid.uuid4().hex, "unit_id": u, "event": "purchase",
               "timestamp": later, "value": 10.0}
              for u in units if rng.random() < 0.3]  # fmt: skip
    for lo in range(0, UNITS, BATCH):
        got = _post(url, sdk, "/v1/exposures", {"exposures": exposures[lo : lo + BATCH]})
        assert got.status_code == 200, got.text
    stored = 0
    for lo in range(0, len(events), BATCH):
        got = _post(url, sdk, "/v1/events", {"events": events[lo : lo + BATCH]})
        assert got.status_code == 200, got.text
        stored += got.json()["stored"]
    assert stored == len(events)
    # A client's retry through another connection (likely the other worker) stores nothing.
    for lo in range(0, 3 * BATCH, BATCH):
        again = _post(url, sdk, "/v1/events", {"events": events[lo : lo + BATCH]}).json()
        assert (again["stored"], again["duplicates"]) == (0, len(events[lo : lo + BATCH]))
    run = _post(url, admin, "/v1/experiments/checkout/analyses", {})
    assert run.status_code == 201, run.text
    assert run.json()["units"] == {k: int((variants == k).sum()) for k in ("control", "green")}
