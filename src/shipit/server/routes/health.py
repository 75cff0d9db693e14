"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import time
from contextlib import nullcontext
from typing import Any

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shipit.server.deps import ServicesDep
from shipit.server.schemas import ERRORS
from shipit.server.sessions import viewer

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


# A readiness answer is reused for FRESH seconds, and while a newer one is being made for
# up to STALE seconds: a probe never waits on the store or the registry (an analysis or a
# drain working them), yet a dependency that fails or hangs shows within seconds.
FRESH, STALE = 0.5, 5.0


def check_ready(services: Any) -> tuple[dict[str, Any], int]:
    """Ask the registry and the store now: the body and the status code."""
    checks: dict[str, str] = {}
    try:
        with services.registry.engine.connect() as con:
            con.exec_driver_sql("SELECT 1")
        checks["registry"] = "ok"
    except Exception as exc:
        checks["registry"] = f"unavailable: {type(exc).__name__}"
    try:
        probe, shared = services.probe()
        with services.store_lock if shared else nullcontext():
            probe.query("SELECT 1 AS ok")
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503


class Readiness:
    """The latest readiness check of one app, refreshed in a worker thread."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self.result: tuple[dict[str, Any], int] | None = None
        self.at = 0.0
        self.lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        """Check now (one check at a time; callers waiting share it)."""
        async with self.lock:
            if self.result is not None and time.monotonic() - self.at < FRESH:
                return
            self.result = await run_in_threadpool(check_ready, self.services)
            self.at = time.monotonic()

    async def get(self) -> tuple[dict[str, Any], int]:
        """A check at most ``FRESH`` seconds old, or up to ``STALE`` while a newer runs."""
        age = time.monotonic() - self.at
        if self.result is None or age >= STALE:
            await self.refresh()
        elif age >= FRESH and (self.task is None or self.task.done()):
            self.task = asyncio.create_task(self.refresh())
        assert self.result is not None
        return self.result


@router.get("/readyz", responses={503: {"description": "A dependency is unavailable"}})
async def readyz(services: ServicesDep) -> Any:
    """The registry and the store answer (checked at most half a second ago)."""
    readiness = services.__dict__.get("readiness")
    if readiness is None:
        readiness = services.__dict__.setdefault("readiness", Readiness(services))
    body, status = await readiness.get()
    return JSONResponse(body, status_code=status)


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(viewer)],
    responses={k: ERRORS[k] for k in (401, 403)},
)
def metrics(services: ServicesDep) -> Response:
    """Prometheus text format (a ``read`` or ``admin`` key, unless the dashboard is open)."""
    return Response(generate_latest(services.telemetry.registry), media_type=CONTENT_TYPE_LATEST)
