"""One exception handler: a ShipitError becomes its ``http_status`` with the same message.

Request validation errors become 422 with the field at fault, and anything unexpected a
500 with a generic message: clients never see a stack trace. ``CatchAll`` answers such
errors itself instead of re-raising them, so the connection stays open after a 500.
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipit.errors import AuthError, ShipitError

__all__ = ["CatchAll", "install_error_handlers"]

log = logging.getLogger("shipit.server")


def _shipit_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ShipitError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    body = {"error": type(exc).__name__, "detail": str(exc)}
    return JSONResponse(body, status_code=exc.http_status, headers=headers)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append({"loc": loc, "message": err.get("msg", "invalid")})
    detail = "; ".join(f"{p['loc']}: {p['message']}" for p in problems) or "invalid request"
    return JSONResponse(
        {"error": "InputError", "detail": detail, "problems": problems}, status_code=422
    )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"error": "InternalError", "detail": "internal server error (see the server log)"},
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ShipitError, _shipit_error)
    app.add_exception_handler(AuthError, _shipit_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)


class CatchAll:
    """ASGI middleware: an exception no handler took becomes a JSON 500 (a RecursionError,
    from input nested too deeply, a 422), logged and not re-raised."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                return
            if isinstance(exc, RecursionError):
                status = 422
                body = {"error": "InputError", "detail": "the input is nested too deeply"}
            else:
                status = 500
                detail = "internal server error (see the server log)"
                body = {"error": "InternalError", "detail": detail}
            start: Message = {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
            await send(start)
            await send({"type": "http.response.body", "body": json.dumps(body).encode()})
