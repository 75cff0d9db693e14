"""A live server per test over real HTTP on localhost, with fresh SQLite and DuckDB files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.live import Live, ThreadServer, free_port, wait_ready


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """A server in a thread with an admin key and an SDK key."""
    yield from _serve(tmp_path)


@pytest.fixture(scope="module")
def live_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One server for a whole test module."""
    yield from _serve(tmp_path_factory.mktemp("live"))


def _serve(tmp_path: Path) -> Iterator[Live]:
    from shipit.registry.keys import KeyRepository
    from shipit.server import ServerSettings, create_app

    database_url = f"sqlite:///{tmp_path / 'registry.db'}"
    store = str(tmp_path / "store.duckdb")
    keys = KeyRepository.from_url(database_url)
    admin = keys.create("test admin", "admin").token
    sdk = keys.create("test sdk", "sdk").token
    port = free_port()
    settings = ServerSettings(
        port=port, database_url=database_url, store=store, max_body_bytes=4 * 1024 * 1024
    )
    app = create_app(settings)
    with ThreadServer(app, port):
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        yield Live(url, admin, sdk, database_url, store, app)
