"""The monitor in the background of ``shipit serve`` (setting ``SHIPIT_MONITOR=true``).

A thread runs :class:`shipit.operate.Monitor` every ``monitor_interval_seconds`` over the
app's registry and store while the app runs. Replicas may all run it: the registry's lease
lets one of them work at a time, so each due analysis runs once.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any

from fastapi import FastAPI

from shipit.server.settings import ServerSettings

__all__ = ["install_monitor"]


def _drained_store(services: Any) -> Any:
    """The app's store after the ingest log drained into it: the monitor analyses every
    event acknowledged before its run, not what the drainer happened to reach. On DuckDB a
    cursor of its own for the run (a snapshot: the drainer goes on), else the store."""
    ingest = getattr(services, "ingest", None)
    if ingest is not None:
        ingest.flush()
    make = getattr(services.engine, "reader", None)
    return make() if make is not None else services.engine


def _in_worker(services: Any) -> Any:
    """``analyze(key, engine, registry)`` through the app's analysis worker process (its
    Python there, its SQL on ``engine`` here), or None when analyses run in a thread."""
    if getattr(services, "worker", None) is None:
        return None

    def analyze(key: str, engine: Any, registry: Any) -> Any:
        from shipit.result.schema import from_json

        return from_json(services.worker.analyze_registered(key, engine, registry, nullcontext()))

    return analyze


def install_monitor(app: FastAPI, settings: ServerSettings) -> None:
    """Wrap the app's lifespan so that the monitor thread runs while the app does."""
    if not settings.monitor:
        return
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            from shipit.operate.monitor import Monitor

            services = application.state.services
            base = settings.dashboard_url or f"http://{settings.host}:{settings.port}"
            own = hasattr(services.engine, "reader")  # a cursor per run, closed after it
            analyze = _in_worker(services)
            monitor = Monitor(
                services.registry,
                lambda: _drained_store(services),
                dashboard_url=base,
                close_store=own,  # else the app's store: the app closes it
                store_lock=None if own else getattr(services, "store_lock", None),
                **({"analyze": analyze} if analyze is not None else {}),
            )
            stop = threading.Event()
            thread = threading.Thread(
                target=monitor.run_forever,
                args=(stop, settings.monitor_interval_seconds),
                name="shipit-monitor",
                daemon=True,
            )
            thread.start()
            try:
                yield state
            finally:
                stop.set()
                thread.join(timeout=30)

    app.router.lifespan_context = lifespan
