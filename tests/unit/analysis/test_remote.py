"""An analysis whose SQL runs at the other end of a pipe (the server's worker process)
gives the same JSON as one run on the store directly, and its errors arrive as raised."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from multiprocessing import Pipe
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from server.live import SPEC_YAML
from shipit.analysis.pipeline import analyze
from shipit.analysis.remote import AnalysisRequest, serve
from shipit.errors import DataError, EngineError
from shipit.result.schema import to_json
from shipit.spec import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.remote import RemoteEngine, answer, engine_info
from shipit.store.tables import EVENTS

# The server tests' experiment, analysed by country as well.
SPEC = SPEC_YAML + "analysis: {segments: [country]}\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBEngine]:
    """2,000 units over three countries and four days, a purchase for a third of them."""
    engine = DuckDBEngine(tmp_path / "store.duckdb")
    engine.execute(
        "CREATE TABLE exposures AS SELECT 'checkout' AS experiment, 1::INTEGER AS phase, "
        "'u' || range AS unit_id, CASE WHEN hash(range) % 2 = 0 THEN 'control' ELSE 'green' "
        "END AS variant, TIMESTAMP '2026-11-01' + range * INTERVAL 3 MINUTE AS timestamp, "
        "['fr', 'de', 'us'][range % 3 + 1] AS country FROM range(2000)"
    )
    engine.execute(
        "CREATE TABLE events AS SELECT 'p-' || range AS event_id, 'u' || (range * 3) AS unit_id,"
        " 'purchase' AS event, TIMESTAMP '2026-11-01' + range * INTERVAL 9 MINUTE "
        "+ INTERVAL 1 MINUTE AS timestamp, (range % 13)::DOUBLE AS value FROM range(666)"
    )
    yield engine
    engine.close()


class Owner:
    """The store's side of a pipe: answers each forwarded call in a thread."""

    def __init__(self, engine: Any) -> None:
        self.mine, self.theirs = Pipe()
        self.engine = engine
        self.calls: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                message = self.mine.recv()
            except EOFError:
                return
            answer(self.mine, self.engine, message, on_call=self.calls.append)


def test_remote_engine_runs_each_call_on_the_owner(store: DuckDBEngine) -> None:
    owner = Owner(store.reader())
    remote = RemoteEngine(owner.theirs, engine_info(store))
    assert remote.dialect == "duckdb"
    assert remote.capabilities == store.capabilities
    assert remote.memory_limit() == store.memory_limit()
    got = remote.query("SELECT count(*) AS n FROM exposures")
    assert got.equals(store.query("SELECT count(*) AS n FROM exposures"))
    assert remote.columns("events") == store.columns("events")
    assert remote.columns("nothing") is None
    remote.execute("CREATE TEMP VIEW few AS SELECT * FROM exposures LIMIT 3")
    assert remote.query("SELECT count(*) AS n FROM few").column(0)[0].as_py() == 3
    with pytest.raises(EngineError, match="nothing"):  # raised on the owner, raised here
        remote.query("SELECT * FROM nothing")
    with pytest.raises(EngineError, match="reads the store"):
        remote.append(EVENTS, [pa.record_batch({"event_id": ["x"]})])
    assert owner.calls[:2] == ["query", "columns"]


def test_an_analysis_through_the_pipe_equals_the_direct_one(store: DuckDBEngine) -> None:
    experiment = Experiment.model_validate(yaml.safe_load(SPEC))
    direct = to_json(analyze(experiment, store, phase=1))
    ours, theirs = Pipe()
    worker = threading.Thread(target=serve, args=(theirs,), daemon=True)
    worker.start()  # the worker process's loop, here in a thread
    reader = store.reader()
    request = AnalysisRequest(experiment, engine_info(store), {"phase": 1})
    ours.send(("analyze", request))
    calls = 0
    while True:
        kind, value = ours.recv()
        if kind in ("done", "failed"):
            break
        calls += 1
        answer(ours, reader, (kind, value))
    assert kind == "done", value
    assert value[1] == direct
    assert calls >= 3  # overall, by country, by day at least
    # An error of the analysis comes back as itself.
    missing = experiment.model_copy(update={"key": "absent"})
    ours.send(("analyze", AnalysisRequest(missing, engine_info(store), {"phase": 1})))
    while True:
        kind, value = ours.recv()
        if kind in ("done", "failed"):
            break
        answer(ours, reader, (kind, value))
    assert kind == "failed"
    assert isinstance(value, DataError)
    assert "'absent' has no exposures" in str(value)
    ours.send(("stop", None))
    worker.join(10)
    assert not worker.is_alive()
