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
