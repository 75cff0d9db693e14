"""The registry's database engine: one writer at a time on SQLite, as on PostgreSQL.

The SQLite driver opens a transaction only at a transaction's first write, so two changes
could both pass their check (is the namespace free? is the experiment still a draft?) before
either writes. Here every SQLite transaction starts with ``BEGIN IMMEDIATE``, which takes
the write lock at once (others wait for it up to the busy timeout); only connections opened
with :func:`reading` start a plain ``BEGIN``, a consistent snapshot that never writes.
PostgreSQL keeps its own guarantees: row locks and namespace advisory locks.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shipit.errors import EngineError

__all__ = ["BUSY_TIMEOUT_MS", "create_registry_engine", "reading"]

BUSY_TIMEOUT_MS = 30_000
_READ_ONLY = "shipit_read_only"


def create_registry_engine(url: str) -> sa.Engine:
    """An engine for a registry URL (``postgresql://`` means psycopg 3)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise EngineError(f"registry database URL {url!r} is not usable: {exc}") from exc
    if engine.dialect.name == "sqlite":
        _serialize_sqlite_writes(engine)
    return engine


def reading(engine: sa.Engine) -> sa.Connection:
    """A connection for reads only (on SQLite it does not take the write lock)."""
    return engine.connect().execution_options(**{_READ_ONLY: True})


def _serialize_sqlite_writes(engine: sa.Engine) -> None:
    """Let SQLAlchemy, not the driver, begin transactions, and begin them IMMEDIATE."""

    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN of its own
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.close()

    def on_begin(conn: sa.Connection) -> None:
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    sa.event.listen(engine, "connect", on_connect)
    sa.event.listen(engine, "begin", on_begin)
