"""The monitor end to end: real DuckDB store, SQLite (and PostgreSQL) registry, a real
local webhook receiver; the ecommerce simulation's page-load guardrail is breached."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from operate.receiver import Receiver, harmful_experiment, start_with_data
from pgschema import pg_schema
from shipit.cli.main import app
from shipit.operate.monitor import Monitor
from shipit.operate.notify import RetryPolicy
from shipit.registry import open_registry
from shipit.registry.analyses import AnalysisRepository
from shipit.registry.monitoring import MonitorState
from shipit.store.duckdb import DuckDBEngine

runner = CliRunner()
SECRET = "s3cret-for-the-test"
N_USERS = 8000
SRC = Path(__file__).resolve().parents[3] / "src"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry and store with one running harmful experiment, made once per module."""
    out = tmp_path_factory.mktemp("monitor")
    repo = open_registry(f"sqlite:///{out / 'registry.db'}")
    start_with_data(repo, out / "store.duckdb", harmful_experiment("ecommerce"), N_USERS, 3)
    repo.close()
    return out


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


def _copy(prepared: Path, tmp_path: Path, **monitoring: object) -> tuple[str, str]:
    """This test's own copy of the prepared files, with the monitoring block given."""
    for name in ("registry.db", "store.duckdb"):
        shutil.copy(prepared / name, tmp_path / name)
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    repo = open_registry(url)
    repo.update(harmful_experiment("ecommerce", **monitoring), actor="ana")
    repo.close()
    return url, str(tmp_path / "store.duckdb")


def test_auto_rollback_signed_once_and_control_for_everyone(
    prepared: Path, tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    notify = [{"webhook": receiver.url, "secret_env": "HOOK_SECRET"}]
    url, store = _copy(prepared, tmp_path, every="1s", auto_rollback=True, notify=notify)
    args = ["monitor", "--once", "--database-url", url, "--store", store]
    args += ["--dashboard-url", "http://dash.example"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "ecommerce: analysed, verdict roll_back; alerts: guardrail" in first.output
    assert "kill switch turned on" in first.output
    repo = open_registry(url)
    assert len(AnalysisRepository(repo.engine).history("ecommerce")) == 1
    # Exactly one POST, whose signature verifies with an HMAC computed here.
    assert len(receiver.posts) == 1
    headers, body = receiver.posts[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-shipit-signature"], expected)
    event = json.loads(body)
    assert event["experiment"] == "ecommerce"
    assert event["rule"] == "guardrail"
    assert event["verdict"] == "roll_back"
    assert event["action"] == "kill_switch_on"
    assert event["dashboard"] == "http://dash.example/experiments/ecommerce"
    assert any("page_load_ms" in r for r in event["reasons"])
    # The kill switch is on, with who and why in the audit history.
    record = repo.get("ecommerce")
    assert record.experiment.kill_switch
    kill = [e for e in repo.audit("ecommerce") if e.action == "kill"]
    assert len(kill) == 1
    assert kill[0].actor == "shipit-monitor"
    assert kill[0].details["reason"].startswith("automatic rollback: guardrail page_load_ms")
    delivered = MonitorState(repo.engine).deliveries("ecommerce")
    assert [(d.ok, d.attempts, d.status_code) for d in delivered] == [(True, 1, 200)]
    repo.close()
    # Assignment now serves control to everyone.
    units = tmp_path / "units.txt"
    units.write_text("\n".join(f"u{i}" for i in range(200)) + "\n")
    assigned = runner.invoke(
        app, ["assign", "ecommerce", "--units", str(units), "--database-url", url]
    )
    rows = list(csv.DictReader(io.StringIO(assigned.stdout)))
    assert {r["variant"] for r in rows} == {"control"}
    assert {r["reason"] for r in rows} == {"kill_switch"}
    # A second run analyses again (1s later) and sends nothing new.
    time.sleep(1.1)
    second = runner.invoke(app, args)
    assert "ecommerce: analysed, verdict roll_back; alerts: none" in second.output
    assert len(receiver.posts) == 1
    repo = open_registry(url)
    assert len(AnalysisRepository(repo.engine).history("ecommerce")) == 2
    assert len([e for e in repo.audit("ecommerce") if e.action == "kill"]) == 1
    repo.close()


def test_not_due_until_its_interval_has_passed(prepared: Path, tmp_path: Path) -> None:
    url, store = _copy(prepared, tmp_path, every="1h")
    args = ["monitor", "--once", "--database-url", url, "--store", store]
    assert "analysed" in runner.invoke(app, args).output
    assert runner.invoke(app, args).output == "no experiment is due\n"


def test_webhook_500s_are_retried_and_recorded(
    prepared: Path, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.codes = [500, 503]
    url, store = _copy(prepared, tmp_path, every="1s", notify=[{"webhook": receiver.url}])
    repo = open_registry(url)
    waits: list[float] = []
    mon = Monitor(repo, lambda: DuckDBEngine(store), retry=RetryPolicy(3, 0.25), sleep=waits.append)
    run = mon.run_once()
    assert run.outcomes[0].delivered == 1
    assert receiver.attempts == 3
    assert waits == [0.25, 0.5]  # exponential backoff
    assert len(receiver.posts) == 1
    assert "x-shipit-signature" not in receiver.posts[0][0]  # no secret named: unsigned
    [d] = MonitorState(repo.engine).deliveries()
    assert (d.ok, d.attempts, d.status_code, d.rules) == (True, 3, 200, ["guardrail"])
    repo.close()


def test_receiver_down_is_recorded_and_the_loop_survives(
    prepared: Path, tmp_path: Path, receiver: Receiver
) -> None:
    dead = receiver.url
    receiver.close()
    hooks = [{"webhook": dead}, {"webhook": "http://127.0.0.1:9/x", "format": "slack"}]
    url, store = _copy(prepared, tmp_path, every="1s", auto_rollback=True, notify=hooks)
    repo = open_registry(url)
    mon = Monitor(repo, lambda: DuckDBEngine(store), retry=RetryPolicy(2, 0.0))
    run = mon.run_once()
    [outcome] = run.outcomes
    assert (outcome.status, outcome.delivered, outcome.failed) == ("analysed", 0, 2)
    assert outcome.rolled_back
    failed = MonitorState(repo.engine).deliveries("ecommerce")
    assert [(d.ok, d.attempts, d.status_code) for d in failed] == [(False, 2, None)] * 2
    assert all("URLError" in d.error for d in failed)
    time.sleep(1.1)
    assert mon.run_once().outcomes[0].status == "analysed"  # the next run goes on
    repo.close()


def test_missing_secret_is_a_recorded_failure(
    prepared: Path, tmp_path: Path, receiver: Receiver
) -> None:
    hooks = [{"webhook": receiver.url, "secret_env": "NOT_SET_ANYWHERE"}]
    url, store = _copy(prepared, tmp_path, notify=hooks)
    repo = open_registry(url)
    Monitor(repo, lambda: DuckDBEngine(store)).run_once()
    [d] = MonitorState(repo.engine).deliveries()
    assert not d.ok
    assert "NOT_SET_ANYWHERE" in d.error
    assert receiver.posts == []  # never sent unsigned
    repo.close()


def test_one_failing_experiment_does_not_stop_the_run(prepared: Path, tmp_path: Path) -> None:
    url, store = _copy(prepared, tmp_path)
    repo = open_registry(url)
    empty = harmful_experiment("no-data").model_copy(update={"namespace": None})
    repo.create(empty.model_copy(update={"salt": "other"}))
    repo.start("no-data")
    run = Monitor(repo, lambda: DuckDBEngine(store)).run_once()
    status = {o.key: o.status for o in run.outcomes}
    assert status == {"ecommerce": "analysed", "no-data": "error"}
    repo.close()


@pytest.mark.postgres
def test_two_monitors_on_one_postgres_run_each_due_analysis_once(tmp_path: Path) -> None:
    schemas = pg_schema()
    url = next(schemas)
    try:
        repo = open_registry(url)
        store = tmp_path / "store.duckdb"
        start_with_data(repo, store, harmful_experiment("ecommerce", every="1h"), 3000, 5)
        repo.close()
        cmd = [sys.executable, "-m", "shipit", "monitor", "--once"]
        cmd += ["--database-url", url, "--store", str(store)]
        env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
        procs = [
            subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), outputs
        said = sorted(out for out, _ in outputs)
        assert sum("ecommerce: analysed" in s for s in said) == 1, said
        repo = open_registry(url)
        assert len(AnalysisRepository(repo.engine).history("ecommerce")) == 1
        repo.close()
    finally:
        for _ in schemas:
            pass


def test_serve_runs_the_monitor_in_the_background_behind_a_setting(
    prepared: Path, tmp_path: Path, receiver: Receiver
) -> None:
    from fastapi.testclient import TestClient

    from shipit.server import ServerSettings, create_app

    url, store = _copy(prepared, tmp_path, every="1h", notify=[{"webhook": receiver.url}])
    settings = ServerSettings(
        database_url=url, store=store, monitor=True, monitor_interval_seconds=0.2
    )
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 60
        while not receiver.posts and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(receiver.posts) == 1
    event = json.loads(receiver.posts[0][1])
    assert event["dashboard"] == "http://127.0.0.1:8000/experiments/ecommerce"
    repo = open_registry(url)
    assert len(AnalysisRepository(repo.engine).history("ecommerce")) == 1  # due once in 1h
    repo.close()


def test_serve_without_the_setting_runs_no_monitor(prepared: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from shipit.server import ServerSettings, create_app

    url, store = _copy(prepared, tmp_path, every="1s")
    with TestClient(create_app(ServerSettings(database_url=url, store=store))):
        time.sleep(0.5)
    repo = open_registry(url)
    assert AnalysisRepository(repo.engine).history("ecommerce") == []
    repo.close()


def test_a_held_lease_makes_another_monitor_do_nothing(prepared: Path, tmp_path: Path) -> None:
    url, store = _copy(prepared, tmp_path)
    repo = open_registry(url)
    state = MonitorState(repo.engine)
    assert state.acquire("monitor", "someone-else", 60)
    opened: list[int] = []

    def open_store() -> DuckDBEngine:
        opened.append(1)
        return DuckDBEngine(store)

    mon = Monitor(repo, open_store)
    assert mon.run_once().ran is False
    assert opened == []  # the store is not even opened
    state.release("monitor", "someone-else")
    assert [o.key for o in mon.run_once().outcomes] == ["ecommerce"]
    repo.close()


def test_a_failed_attempt_waits_its_interval(prepared: Path, tmp_path: Path) -> None:
    url, store = _copy(prepared, tmp_path, every="1h")
    repo = open_registry(url)
    empty = harmful_experiment("no-data", every="1h").model_copy(update={"salt": "other"})
    repo.create(empty)
    repo.start("no-data")
    mon = Monitor(repo, lambda: DuckDBEngine(store))
    assert {o.key: o.status for o in mon.run_once().outcomes}["no-data"] == "error"
    assert mon.due() == []  # neither is due again within the hour
    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    assert sorted(mon.due(later)) == ["ecommerce", "no-data"]
    repo.close()


def test_auto_rollback_acts_on_a_guardrail_already_red(
    prepared: Path, tmp_path: Path, receiver: Receiver
) -> None:
    url, store = _copy(prepared, tmp_path, every="1s", notify=[{"webhook": receiver.url}])
    repo = open_registry(url)
    mon = Monitor(repo, lambda: DuckDBEngine(store))
    assert [a.rule for a in mon.run_once().outcomes[0].alerts] == ["guardrail"]
    assert not repo.get("ecommerce").experiment.kill_switch  # auto_rollback is off
    hooks = [{"webhook": receiver.url}]
    repo.update(harmful_experiment("ecommerce", every="1s", auto_rollback=True, notify=hooks))
    time.sleep(1.1)
    outcome = mon.run_once().outcomes[0]
    assert outcome.rolled_back
    assert [a.rule for a in outcome.alerts] == ["guardrail"]  # said again, as the cause
    assert repo.get("ecommerce").experiment.kill_switch
    assert json.loads(receiver.posts[-1][1])["action"] == "kill_switch_on"
    assert len(receiver.posts) == 2
    repo.close()


def test_the_background_monitor_reads_the_store_after_the_ingest_log_drained(
    prepared: Path, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from shipit.registry.keys import KeyRepository
    from shipit.server import ServerSettings, create_app
    from shipit.server.monitoring import _drained_store

    url, store = _copy(prepared, tmp_path, every="1h")
    keys = KeyRepository.from_url(url)
    sdk = keys.create("test sdk", "sdk").token
    keys.engine.dispose()
    # A drainer that would wait an hour: only the monitor's flush can move the batch.
    settings = ServerSettings(database_url=url, store=store, drain_interval=3600.0)
    app = create_app(settings)
    with TestClient(app) as c:
        with app.state.services.store_lock:
            before = app.state.services.engine.query("SELECT count(*) AS n FROM events")
        rows = [
            {
                "event_id": f"late-{i}",
                "unit_id": f"late-u{i}",
                "event": "purchase",
                "timestamp": "2026-11-01T00:00:00Z",
                "value": 1.0,
            }
            for i in range(25)
        ]
        r = c.post("/v1/events", json={"events": rows}, headers={"Authorization": f"Bearer {sdk}"})
        assert r.status_code == 200, r.text
        engine = _drained_store(app.state.services)
        with app.state.services.store_lock:  # as the monitor holds it around an analysis
            after = engine.query("SELECT count(*) AS n FROM events")
    assert after.column(0)[0].as_py() == before.column(0)[0].as_py() + 25
