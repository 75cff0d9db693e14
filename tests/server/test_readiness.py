"""/readyz answers from a check at most FRESH seconds old, and reports a failing store
(a store object that can be broken on purpose; the registry is a real SQLite engine)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from shipit.server.routes import health


class _Store:
    def __init__(self) -> None:
        self.calls = 0
        self.broken = False

    def query(self, sql: str) -> None:
        self.calls += 1
        if self.broken:
            raise OSError("gone")


class _Services:
    def __init__(self, store: _Store) -> None:
        self.store = store
        from sqlalchemy import create_engine

        self.registry = type("R", (), {"engine": create_engine("sqlite://")})()

    def probe(self) -> tuple[Any, bool]:
        return self.store, False


def test_checks_are_reused_then_refreshed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "FRESH", 0.05)
    store = _Store()
    readiness = health.Readiness(_Services(store))

    async def scenario() -> list[int]:
        codes = []
        body, code = await readiness.get()
        assert body["checks"] == {"registry": "ok", "store": "ok"}
        codes.append(code)
        for _ in range(20):  # fresh: no new check
            codes.append((await readiness.get())[1])
        assert store.calls == 1
        store.broken = True
        time.sleep(0.06)
        codes.append((await readiness.get())[1])  # stale: the old answer, a check started
        await readiness.task  # type: ignore[misc]
        body, code = await readiness.get()
        assert body["checks"]["store"] == "unavailable: OSError"
        codes.append(code)
        return codes

    codes = asyncio.run(scenario())
    assert codes[:-1] == [200] * 22
    assert codes[-1] == 503
