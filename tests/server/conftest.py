"""A live server per test over real HTTP on localhost, with fresh SQLite and DuckDB files
(``live_db``: the same on SQLite and on PostgreSQL where it runs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pgschema import pg_schema
from server.live import Live, ThreadServer, free_port, wait_ready


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """A server in a thread with an admin, an SDK and a read key."""
    yield from serve(tmp_path)


@pytest.fixture
def live_in_thread(tmp_path: Path) -> Iterator[Live]:
    """A server whose analyses run in one of its threads (``analysis_worker="thread"``):
    a stand-in ``shipit.analysis`` module set by the test replaces the library there."""
    yield from serve(tmp_path, analysis_worker="thread")


@pytest.fixture(scope="module")
def live_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One server for a whole test module."""
    yield from serve(tmp_path_factory.mktemp("live"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    """A live server whose registry is SQLite, then PostgreSQL (a fresh schema)."""
    if request.param == "sqlite":
        yield from serve(tmp_path)
        return
    schemas = pg_schema()
    url = next(schemas)
    try:
        yield from serve(tmp_path, database_url=url)
    finally:
        for _ in schemas:
            pass


def serve(tmp_path: Path, database_url: str | None = None, **settings: Any) -> Iterator[Live]:
    """Run a server on a free port until the generator is closed."""
    from shipit.registry.keys import KeyRepository
    from shipit.server import ServerSettings, create_app

    database_url = database_url or f"sqlite:///{tmp_path / 'registry.db'}"
    store = str(tmp_path / "store.duckdb")
    keys = KeyRepository.from_url(database_url)
    admin = keys.create("test admin", "admin").token
    sdk = keys.create("test sdk", "sdk").token
    read = keys.create("test read", "read").token
    keys.engine.dispose()
    port = free_port()
    config = ServerSettings(
        port=port,
        database_url=database_url,
        store=store,
        max_body_bytes=4 * 1024 * 1024,
        **settings,
    )
    app = create_app(config)
    with ThreadServer(app, port):
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        yield Live(url, admin, sdk, database_url, store, app, read)
