"""Who may see the dashboard and ``/metrics``: a ``read`` or ``admin`` key (bearer header),
or a session cookie signed by the server after a login with such a key, or anyone when
``open_dashboard`` is set (trusted networks only).

A session cookie reads ``<prefix>.<expiry>.<signature>`` (HMAC-SHA256 with the session
secret); it stops working when it expires or its key is revoked or loses its scope.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from fastapi import Request

from shipit.errors import AuthError
from shipit.registry.keys import ApiKey
from shipit.server.auth import READ_SCOPES, ForbiddenError, has_token, read_key
from shipit.server.services import Services

__all__ = ["COOKIE", "Sessions", "login_key", "viewer"]

COOKIE = "shipit_session"


class Sessions:
    """Signs and checks session cookies with one secret."""

    def __init__(self, secret: str | None, hours: float) -> None:
        self._secret = (secret or secrets.token_urlsafe(32)).encode()
        self.max_age = int(hours * 3600)

    def _sign(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def issue(self, key: ApiKey, now: float | None = None) -> str:
        """A cookie value for ``key``, valid for ``max_age`` seconds."""
        expiry = int((now or time.time()) + self.max_age)
        body = f"{key.prefix}.{expiry}"
        return f"{body}.{self._sign(body)}"

    def prefix_of(self, cookie: str, now: float | None = None) -> str | None:
        """The key prefix of a valid, unexpired cookie, else None."""
        parts = cookie.split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        prefix, expiry, signature = parts
        if not hmac.compare_digest(signature, self._sign(f"{prefix}.{expiry}")):
            return None
        if int(expiry) < (now or time.time()):
            return None
        return prefix


def _active_key(services: Services, prefix: str) -> ApiKey | None:
    """The active key with ``prefix`` (checked at most every ``cache_seconds``)."""

    def find() -> ApiKey:
        for key in services.keys.list():
            if key.prefix == prefix and key.active:
                return key
        raise AuthError("the session's key was revoked: log in again")

    try:
        return services.key_cache.get(f"session:{prefix}", find)
    except AuthError:
        return None


def login_key(services: Services, token: str) -> ApiKey:
    """The key behind a login token; it must have a read or admin scope."""
    key = services.verify_key(token)
    if key.scope not in READ_SCOPES:
        raise ForbiddenError(
            f"API key {key.prefix} has scope {key.scope!r}; the dashboard needs 'read' or 'admin'"
        )
    return key


def viewer(request: Request) -> ApiKey | None:
    """The key allowed to view, None when the dashboard is open; AuthError otherwise."""
    services: Services = request.app.state.services
    if services.settings.open_dashboard:
        return None
    if has_token(request):
        return read_key(request)
    sessions: Sessions = request.app.state.sessions
    prefix = sessions.prefix_of(request.cookies.get(COOKIE, ""))
    key = _active_key(services, prefix) if prefix else None
    if key is None or key.scope not in READ_SCOPES:
        raise AuthError("the dashboard needs a 'read' or 'admin' key: log in at /login")
    return key
