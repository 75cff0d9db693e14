"""A fresh PostgreSQL schema per test, shared by the registry and server fixtures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_schema() -> Iterator[str]:
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
