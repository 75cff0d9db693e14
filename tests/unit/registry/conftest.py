"""Registry fixtures: the same tests on SQLite (always) and PostgreSQL (where it runs)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shipit.registry import SqlAlchemyRepository, open_registry

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_schema() -> Iterator[str]:
    """A fresh schema in the ``test`` database, dropped afterwards."""
    sa = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg", reason="psycopg is not installed (extra: postgres)")
    schema = f"shipit_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (database test) is not reachable: {exc.orig}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry(request: pytest.FixtureRequest) -> Iterator[SqlAlchemyRepository]:
    """An empty, migrated registry on each database."""
    if request.param == "sqlite":
        repo = open_registry()
        yield repo
        repo.close()
        return
    schemas = _pg_schema()
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
    yield from _pg_schema()
