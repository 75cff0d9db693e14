"""The one exception family of shipit.

Every error a user can cause is a ``ShipitError``; its message says what was wrong, where
(file, field, row) and what to do. The CLI prints it without a traceback and exits non-zero;
the server maps it to a 4xx with the same message.

    ShipitError
    ├── SpecError          an experiment or metric spec is invalid
    ├── InputError         a request or input file (JSON, CSV) is malformed
    ├── DataError          stored or loaded data is wrong (bad rows, inconsistent sums)
    ├── NotFoundError      an experiment, metric, key or file does not exist
    ├── ConflictError      a change collides with existing state (overlap, duplicate key)
    ├── StateError         an action is not allowed in the current lifecycle state
    ├── EngineError        the SQL engine failed or is unreachable
    └── AuthError          a missing, revoked or under-scoped API key
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConflictError",
    "DataError",
    "EngineError",
    "InputError",
    "NotFoundError",
    "ShipitError",
    "SpecError",
    "StateError",
]


class ShipitError(Exception):
    """Base of every error shipit raises on purpose; its message is meant for the user."""

    exit_code: int = 2
    http_status: int = 400


class SpecError(ShipitError):
    """An experiment, metric or plan spec is invalid."""

    http_status = 422


class InputError(ShipitError):
    """A request or an input file is malformed: names the field (and row) at fault."""

    http_status = 422


class DataError(ShipitError):
    """Data is inconsistent or bad: names the row and the reason."""

    http_status = 422


class NotFoundError(ShipitError):
    """Something named does not exist."""

    http_status = 404


class ConflictError(ShipitError):
    """A change collides with existing state."""

    http_status = 409


class StateError(ShipitError):
    """An action is not allowed in the current lifecycle state."""

    http_status = 409


class EngineError(ShipitError):
    """The SQL engine failed or cannot be reached."""

    exit_code = 3
    http_status = 503


class AuthError(ShipitError):
    """A missing, revoked or under-scoped API key."""

    http_status = 401
