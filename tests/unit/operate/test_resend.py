"""Failed webhook deliveries sent again by the next monitor run: a real local receiver
down for the first run and up for the second, on SQLite and PostgreSQL registries."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from operate.receiver import Receiver, harmful_experiment, start_with_data
from shipit.operate.monitor import Monitor
from shipit.operate.notify import RetryPolicy
from shipit.operate.resend import resend_failed
from shipit.registry import SqlAlchemyRepository
from shipit.registry.monitoring import MonitorState
from shipit.store.duckdb import DuckDBEngine

SECRET = "resend-secret"
QUICK = RetryPolicy(attempts=2, backoff=0.0, timeout=2.0)


def _signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_a_delivery_failed_while_the_receiver_was_down_is_sent_once_when_it_is_up(
    registry: SqlAlchemyRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    down = Receiver()
    port = down.port
    down.close()  # nothing listens on the port during the first run
    notify = [{"webhook": f"http://127.0.0.1:{port}/hook", "secret_env": "HOOK_SECRET"}]
    store = tmp_path / "store.duckdb"
    start_with_data(registry, store, harmful_experiment("shop", every="1d", notify=notify), 8000, 3)
    monitor = Monitor(registry, lambda: DuckDBEngine(store), retry=QUICK, sleep=lambda s: None)

    first = monitor.run_once()
    assert [(o.key, o.status, o.delivered, o.failed) for o in first.outcomes] == [
        ("shop", "analysed", 0, 1)
    ]
    assert first.resent == ()
    state = MonitorState(registry.engine)
    [failed] = state.deliveries("shop")
    assert (failed.ok, failed.attempts, failed.status_code) == (False, 2, None)
    assert failed.body is not None
    assert json.loads(failed.body)["experiment"] == "shop"
    assert (failed.format, failed.secret_env, failed.resend) == ("json", "HOOK_SECRET", 0)
    assert SECRET not in failed.body

    up = Receiver(port=port)
    try:
        soon = monitor.run_once()  # within a minute of the failure: not yet
        assert (soon.resent, soon.outcomes, up.attempts) == ((), (), 0)
        later = datetime.now(UTC) + timedelta(minutes=2)
        second = monitor.run_once(later)  # the experiment is not due again for a day
        assert second.outcomes == ()
        assert [(r.key, r.of, r.ok) for r in second.resent] == [("shop", failed.id, True)]
        [(headers, body)] = up.posts
        assert body == failed.body.encode("utf-8")  # the same body, signed afresh
        assert headers["x-shipit-signature"] == _signature(body)
        original, resend = state.deliveries("shop")
        assert original.superseded_by == resend.id
        assert (resend.ok, resend.resend, resend.resend_of) == (True, 1, original.id)
        assert (resend.first_at, resend.body) == (original.first_at, original.body)

        third = monitor.run_once(later + timedelta(hours=2))
        assert (third.resent, third.outcomes) == ((), ())
        assert (up.attempts, len(state.deliveries("shop"))) == (1, 2)
    finally:
        up.close()


def test_a_resend_that_fails_again_waits_twice_as_long_and_a_missing_secret_is_recorded(
    registry: SqlAlchemyRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    state = MonitorState(registry.engine)
    rec = Receiver(codes=[503])
    try:
        for env in ("HOOK_SECRET", "NOT_SET_SECRET"):
            state.record_delivery(
                "shop", rec.url, ["srm"], ok=False, attempts=4, status_code=503,
                error="HTTP 503", body=b'{"experiment": "shop"}', format="json",
                secret_env=env,
            )  # fmt: skip
        t0 = datetime.now(UTC)
        first = resend_failed(state, retry=QUICK, now=t0 + timedelta(minutes=1, seconds=5))
        assert [(r.ok, r.error) for r in first] == [
            (False, "HTTP 503 Service Unavailable"),
            (False, "environment variable NOT_SET_SECRET (the secret) is not set"),
        ]
        assert rec.attempts == 1  # one attempt per resend: later runs are its retries
        assert resend_failed(state, retry=QUICK, now=t0 + timedelta(minutes=2)) == []
        monkeypatch.setenv("NOT_SET_SECRET", SECRET)
        later = resend_failed(state, retry=QUICK, now=t0 + timedelta(minutes=3, seconds=10))
        assert [(r.of, r.ok) for r in later] == [
            (first[0].delivery, True),
            (first[1].delivery, True),
        ]
        assert [_signature(body) for _, body in rec.posts] == [
            headers["x-shipit-signature"] for headers, _ in rec.posts
        ]
        assert [d.resend for d in state.deliveries("shop")] == [0, 0, 1, 1, 2, 2]
    finally:
        rec.close()
