"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from fastapi import APIRouter, Depends, Response
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


@router.get("/readyz", responses={503: {"description": "A dependency is unavailable"}})
def readyz(services: ServicesDep) -> Any:
    """The registry and the store answer."""
    checks: dict[str, str] = {}
    try:
        services.registry.list_experiments()
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
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(viewer)],
    responses={k: ERRORS[k] for k in (401, 403)},
)
def metrics(services: ServicesDep) -> Response:
    """Prometheus text format (a ``read`` or ``admin`` key, unless the dashboard is open)."""
    return Response(generate_latest(services.telemetry.registry), media_type=CONTENT_TYPE_LATEST)
