"""API-key checks: ``Authorization: Bearer shipit_…`` (or ``X-API-Key``), verified against the
hashed keys of the registry. ``sdk`` keys may assign and send data; ``admin`` keys may do
everything.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shipit.errors import AuthError
from shipit.registry.keys import ApiKey
from shipit.server.services import Services

__all__ = ["ForbiddenError", "bearer", "require_admin", "require_sdk"]

bearer = HTTPBearer(auto_error=False, description="An API key: shipit_<prefix>_<secret>")


class ForbiddenError(AuthError):
    """A valid key whose scope does not allow the action."""

    http_status = 403


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    other = request.headers.get("x-api-key", "").strip()
    if other:
        return other
    raise AuthError("an API key is required: send 'Authorization: Bearer <key>'")


def _key(request: Request) -> ApiKey:
    services: Services = request.app.state.services
    return services.verify_key(_token(request))


def require_sdk(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> ApiKey:
    """Any active key (sdk or admin)."""
    return _key(request)


def require_admin(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> ApiKey:
    """An active admin key."""
    key = _key(request)
    if key.scope != "admin":
        raise ForbiddenError(f"API key {key.prefix} has scope {key.scope!r}; this needs 'admin'")
    return key
