"""Operate fixtures: a registry on SQLite and PostgreSQL."""

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
    repo = open_registry(next(schemas))
    try:
        yield repo
    finally:
        repo.close()
        for _ in schemas:
            pass
