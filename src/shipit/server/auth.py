"""API-key checks: ``Authorization: Bearer shipit_…`` (or ``X-API-Key``), verified against the
hashed keys of the registry. ``sdk`` keys may assign, send data for registered experiments and
read the running features; ``read`` keys may read everything; ``admin`` keys may do everything.

The dashboard also takes a signed session cookie, given by ``/login`` to the holder of a
``read`` or ``admin`` key (see ``sessions.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shipit.errors import AuthError
from shipit.registry.keys import ApiKey
from shipit.server.services import Services

__all__ = [
    "READ_SCOPES",
    "ForbiddenError",
    "bearer",
    "has_token",
    "read_key",
    "require_admin",
    "require_read",
    "require_sdk",
]

bearer = HTTPBearer(auto_error=False, description="An API key: shipit_<prefix>_<secret>")
# Scopes that may read experiments, history, analyses, the dashboard and /metrics.
READ_SCOPES = ("read", "admin")


class ForbiddenError(AuthError):
    """A valid key whose scope does not allow the action."""

    http_status = 403


def has_token(request: Request) -> bool:
    """Whether the request carries an API key at all."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return bool(
        (scheme.lower() == "bearer" and value.strip()) or request.headers.get("x-api-key", "")
    )


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    other = request.headers.get("x-api-key", "").strip()
    if other:
        return other
    raise AuthError("an API key is required: send 'Authorization: Bearer <key>'")


async def _key(request: Request) -> ApiKey:
    """The request's key: from the cache on the event loop, else checked in a thread."""
    services: Services = request.app.state.services
    token = _token(request)
    key = services.cached_key(token)
    if key is None:
        key = await run_in_threadpool(services.verify_key, token)
    return key


async def require_sdk(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> ApiKey:
    """Any active key (sdk, read or admin)."""
    return await _key(request)


async def require_read(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> ApiKey:
    """An active read or admin key."""
    return _read_scope(await _key(request))


def read_key(request: Request) -> ApiKey:
    """``require_read`` for a synchronous caller (the dashboard's viewer check)."""
    services: Services = request.app.state.services
    return _read_scope(services.verify_key(_token(request)))


def _read_scope(key: ApiKey) -> ApiKey:
    if key.scope not in READ_SCOPES:
        raise ForbiddenError(
            f"API key {key.prefix} has scope {key.scope!r}; this needs 'read' or 'admin'"
        )
    return key


async def require_admin(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> ApiKey:
    """An active admin key."""
    key = await _key(request)
    if key.scope != "admin":
        raise ForbiddenError(f"API key {key.prefix} has scope {key.scope!r}; this needs 'admin'")
    return key
