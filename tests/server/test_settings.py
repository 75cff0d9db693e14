"""Settings come from SHIPIT_* variables; apps built by create_app share nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from shipit.server import ServerSettings, create_app


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPIT_PORT", "9123")
    monkeypatch.setenv("SHIPIT_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("SHIPIT_MAX_BODY_BYTES", "1000")
    s = ServerSettings()
    assert (s.port, s.database_url, s.max_body_bytes, s.store) == (
        9123,
        "sqlite:///x.db",
        1000,
        None,
    )


def test_bad_settings_name_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPIT_PORT", "99999")
    with pytest.raises(ValidationError, match="port"):
        ServerSettings()


def test_apps_share_no_state(tmp_path: Path) -> None:
    settings = ServerSettings(database_url=f"sqlite:///{tmp_path / 'r.db'}")
    a, b = create_app(settings), create_app(settings)
    assert a.state.services is None  # opened at start-up only
    assert b.state.services is None
    assert not (tmp_path / "r.db").exists()
    paths = set(a.openapi()["paths"])
    assert {"/healthz", "/readyz", "/metrics", "/v1/assign", "/v1/features"} <= paths
    assert a.openapi() == b.openapi()


def test_the_analysis_worker_and_store_threads_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from shipit.server.services import open_services

    assert ServerSettings().analysis_worker == "process"
    monkeypatch.setenv("SHIPIT_ANALYSIS_WORKER", "thread")
    monkeypatch.setenv("SHIPIT_STORE_THREADS", "1")
    settings = ServerSettings(
        database_url=f"sqlite:///{tmp_path / 'r.db'}", store=str(tmp_path / "s.duckdb")
    )
    services = open_services(settings)
    try:
        assert services.worker is None  # analyses in a thread of this process
        threads = services.engine.query("SELECT current_setting('threads') AS t")
        assert threads.column(0)[0].as_py() == 1
    finally:
        services.close()
    monkeypatch.setenv("SHIPIT_ANALYSIS_WORKER", "elsewhere")
    with pytest.raises(ValidationError, match="analysis_worker"):
        ServerSettings()
