"""``RemoteEngine``: an engine whose SQL runs in another process, over a pipe.

An analysis worker process computes with it as with any engine; each ``query``,
``execute`` and ``columns`` call is sent to the process that owns the store, which runs it
(``answer``) and sends back the Arrow result or the error. Results are summaries (moments
per group), so little crosses the pipe; the engine's own threads run the SQL there, and
the Python of the analysis runs here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from shipit.errors import EngineError
from shipit.store.sql import Capabilities
from shipit.store.tables import TableSchema

__all__ = ["SQL_CALLS", "EngineInfo", "RemoteEngine", "answer", "engine_info", "portable"]

# The engine calls a RemoteEngine forwards: (name, argument) messages.
SQL_CALLS = ("query", "execute", "columns")


@dataclass(frozen=True)
class EngineInfo:
    """What a RemoteEngine says about the engine it stands for, without asking it."""

    dialect: str
    capabilities: Capabilities
    memory_limit: int | None = None


def engine_info(engine: Any) -> EngineInfo:
    """The dialect, capabilities and memory limit of ``engine``, read once."""
    limit = getattr(engine, "memory_limit", None)
    budget = limit() if callable(limit) else None
    return EngineInfo(engine.dialect, engine.capabilities, budget)


class RemoteEngine:
    """An ``Engine`` whose every statement is run by the process at the other end of
    ``conn`` (a ``multiprocessing`` connection); it cannot append."""

    def __init__(self, conn: Any, info: EngineInfo) -> None:
        self.conn = conn
        self.info = info

    def __repr__(self) -> str:
        return f"RemoteEngine({self.info.dialect!r})"

    @property
    def dialect(self) -> str:
        """The dialect of the engine it stands for."""
        return self.info.dialect

    @property
    def capabilities(self) -> Capabilities:
        """The capabilities of the engine it stands for."""
        return self.info.capabilities

    def memory_limit(self) -> int | None:
        """The memory limit the engine said when the work began (None: not known)."""
        return self.info.memory_limit

    def _call(self, name: str, arg: str) -> Any:
        self.conn.send((name, arg))
        ok, value = self.conn.recv()
        if not ok:
            raise value
        return value

    def query(self, sql: str) -> pa.Table:
        """Run a SELECT in the store's process; its result."""
        table: pa.Table = self._call("query", sql)
        return table

    def execute(self, sql: str) -> None:
        """Run a statement in the store's process."""
        self._call("execute", sql)

    def columns(self, table: str) -> dict[str, str] | None:
        """Columns of a table or view of the store (None if absent)."""
        found: dict[str, str] | None = self._call("columns", table)
        return found

    def append(self, schema: TableSchema, batches: Iterable[pa.RecordBatch]) -> int:
        """Refused: a worker reads the store, the process that owns it writes."""
        raise EngineError("a remote engine reads the store; appends go to its owner")

    def close(self) -> None:
        """Nothing to release: the store's process owns the connection."""


def answer(
    conn: Any,
    engine: Any,
    message: tuple[str, str],
    lock: AbstractContextManager[Any] | None = None,
    on_call: Callable[[str], None] | None = None,
) -> None:
    """Run one forwarded call on ``engine`` (under ``lock`` when given) and send back
    ``(True, result)`` or ``(False, error)``."""
    name, arg = message
    if on_call is not None:
        on_call(name)
    try:
        if name not in SQL_CALLS:
            raise EngineError(f"a remote engine cannot call {name!r}")
        with lock if lock is not None else nullcontext():
            result = getattr(engine, name)(arg)
    except Exception as exc:
        conn.send((False, portable(exc)))
        return
    conn.send((True, result))


def portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling as itself (to be raised in the other process), else
    a RuntimeError with its type and message."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
