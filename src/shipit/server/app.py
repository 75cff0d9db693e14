"""``create_app(settings)``: the FastAPI app of the API and the dashboard (no import-time state).

The app opens the registry and the event store when it starts (or uses the ``services``
given, for tests and embedding) and closes them when it stops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from shipit.server.errors import CatchAll, install_error_handlers
from shipit.server.headers import SecurityHeaders
from shipit.server.limits import BodySizeLimit
from shipit.server.routes import (
    analyses,
    assignments,
    bandits,
    experiments,
    features,
    health,
    ingest,
    operations,
    shadow,
)
from shipit.server.services import Services, open_services
from shipit.server.settings import ServerSettings
from shipit.server.telemetry import Telemetry, TelemetryMiddleware

__all__ = ["create_app"]


def create_app(
    settings: ServerSettings | None = None, *, services: Services | None = None
) -> FastAPI:
    """The app for ``settings`` (default: read from ``SHIPIT_*``)."""
    settings = settings or (services.settings if services else ServerSettings())
    owned = services is None
    telemetry = services.telemetry if services else Telemetry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.services is None:
            app.state.services = open_services(settings, telemetry)
        try:
            yield
        finally:
            if owned and app.state.services is not None:
                app.state.services.close()
                app.state.services = None

    app = FastAPI(
        title="shipit",
        summary="Experiments from spec to verdict: registry, assignment, ingestion, analysis.",
        version="1",
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    for module in (health, experiments, assignments, ingest, features, analyses, operations):
        app.include_router(module.router)
    app.include_router(bandits.router)
    from shipit.server.routes import interleaving

    app.include_router(interleaving.router)
    app.include_router(shadow.router)
    from shipit.server.dashboard import mount_dashboard

    mount_dashboard(app, settings)
    _document_raw_bodies(app)
    from shipit.server.monitoring import install_monitor

    install_monitor(app, settings)
    app.add_middleware(CatchAll)  # innermost: sees what no exception handler took
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TelemetryMiddleware, telemetry=telemetry)
    return app


def _document_raw_bodies(app: FastAPI) -> None:
    """Put the schemas of bodies that handlers parse themselves (``POST /v1/events``) in
    the OpenAPI document, which FastAPI only does for bodies it parses."""
    from fastapi.openapi.utils import get_openapi

    from shipit.server.schemas import EventsBatch

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            extra = EventsBatch.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(extra.pop("$defs", {}))
            schemas["EventsBatch"] = extra
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
