"""Registry fixtures: the same tests on SQLite (always) and PostgreSQL (where it runs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pgschema import pg_schema
from shipit.registry import SqlAlchemyRepository, open_registry


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry(request: pytest.FixtureRequest) -> Iterator[SqlAlchemyRepository]:
    """An empty, migrated registry on each database."""
    if request.param == "sqlite":
        repo = open_registry()
        yield repo
        repo.close()
        return
    schemas = pg_schema()
    url = next(schemas)
    repo = open_registry(url)
    try:
        yield repo
    finally:
        repo.close()
        for _ in schemas:
            pass


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL schema (skips where PostgreSQL does not run)."""
    yield from pg_schema()
