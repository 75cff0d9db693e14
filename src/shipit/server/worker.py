"""``AnalysisWorker``: the process the server's analyses run in, beside the store they read.

A DuckDB file admits one writing process, so the store stays here; the worker process
(``shipit.analysis.remote.serve``) runs everything of an analysis but its SQL (compiling
the metrics' SQL, statistics, the verdict, the JSON) and sends each statement back, which
this process runs on the store's read cursor (a snapshot; DuckDB releases the GIL while it
works). The event loop thus never waits for the interpreter on an analysis's behalf.
"""

from __future__ import annotations

import multiprocessing
import threading
from contextlib import AbstractContextManager, suppress
from typing import Any

from shipit.store.remote import answer

__all__ = ["NICENESS", "AnalysisWorker"]

# The worker's CPU priority below the server's (os.nice): on a busy machine the requests
# come first and an analysis takes the cycles they leave.
NICENESS = 10


class AnalysisWorker:
    """One worker process, started on first use and again if it dies; one analysis at a
    time. ``pid`` is the worker's process, ``last_pid`` the one that ran the last analysis,
    ``calls`` the engine calls answered for it so far, ``running`` whether one is going on."""

    def __init__(self, niceness: int = NICENESS) -> None:
        self.niceness = niceness
        self.pid: int | None = None
        self.last_pid: int | None = None
        self.calls = 0
        self.running = False
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Any = None

    def start(self) -> None:
        """Start the process now (else the first analysis does)."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        self._discard()
        from shipit.analysis.remote import serve

        # spawn: a fork would copy this process's threads' locks (DuckDB's, the drainer's).
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(
            target=serve, args=(theirs, self.niceness), name="shipit-analysis", daemon=True
        )
        proc.start()
        theirs.close()
        self._proc, self._conn, self.pid = proc, ours, proc.pid

    def _discard(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None:
            self._proc.join(0.1)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(5)
        self._proc = self._conn = None

    def analyze(self, request: Any, engine: Any, lock: AbstractContextManager[Any]) -> str:
        """The JSON of ``request`` (an ``AnalysisRequest``) analysed in the worker, its SQL
        run on ``engine`` under ``lock``; the worker's error is raised here."""
        with self._lock:
            self._ensure()
            self.running = True
            try:
                return self._converse(request, engine, lock)
            finally:
                self.running = False

    def analyze_registered(
        self, key: str, engine: Any, registry: Any, lock: AbstractContextManager[Any]
    ) -> str:
        """The JSON of the analysis of registered experiment ``key`` (its spec and the
        arguments the registry gives, read here) analysed in the worker on ``engine``."""
        from shipit.analysis.registered import registered_inputs
        from shipit.analysis.remote import AnalysisRequest
        from shipit.store.remote import engine_info

        with lock:
            info = engine_info(engine)
        experiment, args = registered_inputs(key, registry)
        return self.analyze(AnalysisRequest(experiment, info, args), engine, lock)

    def _converse(self, request: Any, engine: Any, lock: AbstractContextManager[Any]) -> str:
        try:
            self._conn.send(("analyze", request))
            while True:
                kind, value = self._conn.recv()
                if kind == "done":
                    self.last_pid, body = value
                    return str(body)
                if kind == "failed":
                    raise value
                self.calls += 1
                answer(self._conn, engine, (kind, value), lock)
        except (EOFError, OSError, BrokenPipeError) as exc:
            self._discard()  # the next analysis starts a new process
            raise RuntimeError("the analysis worker process exited during an analysis") from exc

    def close(self) -> None:
        """Stop the process (once the analysis going on, if any, has ended)."""
        with self._lock:
            if self._conn is not None:
                with suppress(OSError):
                    self._conn.send(("stop", None))
            if self._proc is not None:
                self._proc.join(5)
            self._discard()
