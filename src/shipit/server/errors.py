"""One exception handler: a ShipitError becomes its ``http_status`` with the same message.

Request validation errors become 422 with the field at fault, and anything unexpected a
500 with a generic message: clients never see a stack trace.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from shipit.errors import AuthError, ShipitError

__all__ = ["install_error_handlers"]

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
