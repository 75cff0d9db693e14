"""The analysis worker process: analyses received over a pipe, their SQL sent back.

``serve`` is the body of the process. Each ``AnalysisRequest`` (a spec and the arguments
``registered_inputs`` read from the registry) is analysed on a ``RemoteEngine`` whose
statements the store's process runs; the JSON of the result goes back. The Python of an
analysis (SQL compilation, statistics, the verdict, the JSON) thus runs here, beside the
server's event loop rather than on its interpreter.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from shipit.errors import ShipitError
from shipit.spec.experiment import Experiment
from shipit.store.remote import EngineInfo, RemoteEngine, portable

__all__ = ["AnalysisRequest", "serve"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisRequest:
    """One analysis to run: ``analyze(experiment, engine, **args)`` on an engine like ``info``."""

    experiment: Experiment
    info: EngineInfo
    args: dict[str, Any] = field(default_factory=dict)


def run(conn: Any, request: AnalysisRequest) -> str:
    """The JSON of one analysis, its SQL run at the other end of ``conn``."""
    from shipit.analysis.pipeline import analyze
    from shipit.result.schema import to_json

    engine = RemoteEngine(conn, request.info)
    return to_json(analyze(request.experiment, engine, **request.args))


def serve(conn: Any, niceness: int = 0) -> None:
    """Analyse the requests received on ``conn`` until it closes or says ``stop``.

    Replies ``("done", (pid, json))`` or ``("failed", error)`` to each ``("analyze",
    request)``; in between, the engine's calls go the other way. ``niceness`` lowers this
    process' CPU priority, so that on a busy machine the server's requests come first."""
    if niceness:
        os.nice(niceness)
    warm()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] != "analyze":
            return
        try:
            body = run(conn, message[1])
        except Exception as exc:
            if not isinstance(exc, ShipitError):
                log.exception("analysis failed in the worker process")
            conn.send(("failed", portable(exc)))
        else:
            conn.send(("done", (os.getpid(), body)))


def warm() -> None:
    """Import the analysis stack now, before the first request needs it (SciPy's
    statistics come with ``stats.stratified``)."""
    import importlib

    for name in ("shipit.analysis.pipeline", "shipit.result.schema", "shipit.stats.stratified"):
        try:
            importlib.import_module(name)
        except ImportError:
            return
