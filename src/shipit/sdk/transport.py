"""The SDK's one seam: ``Transport.request``. ``HttpTransport`` talks to a server with httpx;
``InMemoryTransport`` is the shipped fake (a features payload, recorded batches, an outage
switch) for tests of code that uses the SDK.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

from shipit.errors import ShipitError

__all__ = ["HttpTransport", "InMemoryTransport", "Transport", "TransportError", "TransportResponse"]


class TransportError(ShipitError):
    """The server could not be reached or did not answer in time (worth retrying)."""

    http_status = 503


@dataclass(frozen=True)
class TransportResponse:
    """Status, headers (lower-case names) and decoded JSON body (None when empty)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None


@runtime_checkable
class Transport(Protocol):
    """Sends one request; raises TransportError when the server cannot be reached."""

    def request(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> TransportResponse:
        """Perform ``method path`` with an optional JSON body."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class HttpTransport:
    """HTTP(S) to a shipit server, with the SDK key as a bearer token."""

    def __init__(self, url: str, sdk_key: str, *, timeout: float = 10.0) -> None:
        self._client = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {sdk_key}", "User-Agent": "shipit-sdk"},
            timeout=timeout,
        )

    def request(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> TransportResponse:
        """One request; network failures and timeouts become TransportError."""
        try:
            r = self._client.request(method, path, json=json, headers=dict(headers or {}))
        except httpx.HTTPError as exc:
            raise TransportError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        try:
            body = r.json() if r.content else None
        except ValueError:
            body = {"detail": r.text}
        return TransportResponse(r.status_code, {k.lower(): v for k, v in r.headers.items()}, body)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


class InMemoryTransport:
    """A fake server: serves ``features`` and records every batch the client sends.

    Set ``down = True`` to simulate an outage (every request raises TransportError).
    """

    def __init__(self, features: Mapping[str, Any] | None = None) -> None:
        self.features: dict[str, Any] = dict(features or {"experiments": []})
        self.down = False
        self.events: list[dict[str, Any]] = []
        self.exposures: list[dict[str, Any]] = []
        self.shadow: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def request(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> TransportResponse:
        """Answer like the server would."""
        with self._lock:
            self.requests.append((method, path))
            if self.down:
                raise TransportError(f"{method} {path}: server unreachable (simulated)")
            if method == "GET" and path == "/v1/features":
                return TransportResponse(200, {}, self.features)
            if method == "POST" and path in ("/v1/events", "/v1/exposures", "/v1/shadow"):
                name = path.rsplit("/", 1)[1]
                rows = list((json or {}).get(name, []))
                target = {"events": self.events, "shadow": self.shadow}.get(name, self.exposures)
                ident = {"events": ("event_id",), "shadow": ("experiment", "request_id")}
                key = ident.get(name)
                seen = {tuple(r.get(k) for k in key) for r in target} if key else set()
                fresh = [r for r in rows if not key or tuple(r.get(k) for k in key) not in seen]
                target.extend(fresh)
                body = {
                    "received": len(rows),
                    "stored": len(fresh),
                    "duplicates": len(rows) - len(fresh),
                }
                return TransportResponse(200, {}, body)
            return TransportResponse(404, {}, {"detail": f"no route {method} {path}"})

    def close(self) -> None:
        """Nothing to release."""
