"""Prometheus metrics of one app, and the ASGI middleware that times every request.

Each app owns its ``CollectorRegistry`` (no process-global state), so several apps in one
process (tests) never share counters.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Telemetry", "TelemetryMiddleware"]


class Telemetry:
    """Request counts and latency by route; assignments and rows ingested."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "shipit_http_requests",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "shipit_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.assignments = Counter(
            "shipit_assignments",
            "Units assigned through the API, by experiment.",
            ["experiment"],
            registry=self.registry,
        )
        self.ingested = Counter(
            "shipit_rows_ingested",
            "Rows received by the ingestion endpoints, by table (duplicates included).",
            ["table"],
            registry=self.registry,
        )
        self.stored = Counter(
            "shipit_rows_stored",
            "New rows committed to the store, by table.",
            ["table"],
            registry=self.registry,
        )


class TelemetryMiddleware:
    """Counts and times each HTTP request under its route template (``/v1/experiments/{key}``)."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route: Any = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            self.telemetry.requests.labels(method, path, str(status[0])).inc()
            self.telemetry.latency.labels(method, path).observe(time.perf_counter() - start)
