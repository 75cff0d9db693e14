"""The server's rules for event and exposure rows, checked in the client: a row the server
would refuse is refused (events) or dropped and counted (exposures) before it is queued, so
it can never make a whole batch fail."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from shipit.errors import InputError

__all__ = ["MAX_ATTRIBUTE", "MAX_TEXT", "check_event", "exposure_problem"]

MAX_TEXT = 256  # ids, event names, experiment and variant keys
MAX_ATTRIBUTE = 1024  # exposure attribute text
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_EVENT_COLUMNS = {"event_id", "unit_id", "event", "timestamp", "value"}
_EXPOSURE_COLUMNS = {"experiment", "unit_id", "variant", "timestamp", "phase"}


def _text(value: str, field: str, limit: int = MAX_TEXT) -> str | None:
    if not value:
        return f"{field} is empty"
    if len(value) > limit:
        return f"{field} has {len(value)} characters; the limit is {limit}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{field} is not valid Unicode (a lone surrogate)"
    return None


def _name(name: Any, reserved: set[str], field: str) -> str | None:
    if not isinstance(name, str) or not _NAME.match(name):
        return f"{field}: {name!r} is not a valid name (letters, digits, _; at most 64)"
    if name in reserved or name.startswith("__"):
        return f"{field}: {name!r} is a reserved column name"
    return None


def check_event(row: Mapping[str, Any]) -> None:
    """Raise InputError naming the field when the server would refuse this event row."""
    problems = [
        _text(row["event_id"], "event_id"),
        _text(row["unit_id"], "unit_id"),
        _text(row["event"], "event"),
    ]
    value = row.get("value")
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"value must be a number, got {type(value).__name__}")
        elif not math.isfinite(value):
            problems.append(f"value must be a finite number, got {value}")
    for key, prop in (row.get("properties") or {}).items():
        field = f"properties.{key}"
        problems.append(_name(key, _EVENT_COLUMNS, "properties"))
        if isinstance(prop, str):
            problems.append(_text(prop, field, MAX_ATTRIBUTE) if prop else None)
        elif isinstance(prop, float) and not math.isfinite(prop):
            problems.append(f"{field} must be a finite number, got {prop}")
        elif prop is not None and not isinstance(prop, int | float):
            problems.append(f"{field} must be text, a number or null, not {type(prop).__name__}")
    found = [p for p in problems if p]
    if found:
        raise InputError(f"event {row['event_id']!r}: " + "; ".join(found))


def exposure_problem(row: Mapping[str, Any]) -> str | None:
    """Why the server would refuse this exposure row, or None."""
    for field in ("experiment", "unit_id", "variant"):
        problem = _text(str(row[field]), field)
        if problem:
            return problem
    for key, value in (row.get("attributes") or {}).items():
        problem = _name(key, _EXPOSURE_COLUMNS, "attributes")
        if problem is None and value is not None and value != "":
            problem = _text(value, f"attributes.{key}", MAX_ATTRIBUTE)
        if problem:
            return problem
    return None
