"""Request and response bodies of the API (Create / Update / Public families).

Bodies are snake_case, validated by pydantic; a bad row of a batch is reported with its
index and field (``events.3.timestamp``).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "ERRORS",
    "AssignRequest",
    "AssignResponse",
    "AssignmentPublic",
    "AuditEntryPublic",
    "DecideRequest",
    "ErrorPublic",
    "EventIn",
    "EventsBatch",
    "ExperimentCreate",
    "ExperimentPublic",
    "ExperimentUpdate",
    "ExposureIn",
    "ExposuresBatch",
    "FeaturesPayload",
    "IngestResult",
    "UnitIn",
]

NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
Text = Field(min_length=1, max_length=256)
# Attribute text is bounded: targeting (regexes included) looks at at most this much.
MAX_ATTRIBUTE = 1024
AttributeText = Annotated[str, Field(max_length=MAX_ATTRIBUTE)]
PropertyValue = AttributeText | float | bool | None
# Columns an exposure has of its own: an attribute may not take one of these names.
EXPOSURE_COLUMNS = {"experiment", "unit_id", "variant", "timestamp", "phase"}
# Largest phase number (the registry stores it as a 32-bit integer).
MAX_PHASE = 2**31 - 1


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _utc(value: datetime) -> datetime:
    """Timestamps without an offset are taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ExperimentCreate(_Body):
    """A new experiment: its spec as a JSON object, or as YAML text (one of the two)."""

    spec: dict[str, Any] | None = None
    yaml: str | None = Field(default=None, max_length=1_000_000)

    @model_validator(mode="after")
    def _one(self) -> ExperimentCreate:
        if (self.spec is None) == (self.yaml is None):
            raise ValueError("give exactly one of 'spec' (a JSON object) or 'yaml' (text)")
        return self


class ExperimentUpdate(ExperimentCreate):
    """A replacement spec (same key); a running experiment's randomization changes only with
    ``new_phase`` and a ``reason``."""

    new_phase: bool = False
    reason: str = Field(default="", max_length=2000)


class ExperimentPublic(BaseModel):
    """An experiment as the registry holds it."""

    key: str
    name: str
    owner: str
    status: str
    phase: int
    decision: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    days_running: float | None = None
    spec: dict[str, Any]


class DecideRequest(_Body):
    """The decision that closes an experiment: any value of the verdict's vocabulary."""

    decision: Literal["halt", "roll_back", "ship", "ship_to_segment", "iterate", "kill"]
    reason: str = Field(default="", max_length=2000)


class AuditEntryPublic(BaseModel):
    """One entry of an experiment's audit log."""

    at: datetime
    actor: str
    action: str
    detail: dict[str, Any] = {}


class UnitIn(_Body):
    """A unit to assign, with the attributes targeting rules look at."""

    unit_id: str = Text
    attributes: dict[str, PropertyValue] = {}


class AssignRequest(_Body):
    """Assign one unit (``unit_id``) or a batch (``units``) in one experiment."""

    experiment: str = Text
    unit_id: str | None = Field(default=None, min_length=1, max_length=256)
    attributes: dict[str, PropertyValue] = {}
    units: list[UnitIn] | None = None
    log_exposures: bool = Field(
        default=False,
        description="Also store an exposure (now, current phase, the unit's attributes) for "
        "every enrolled unit, for servers that assign at the moment of exposure.",
    )

    @model_validator(mode="after")
    def _one(self) -> AssignRequest:
        if (self.unit_id is None) == (self.units is None):
            raise ValueError("give exactly one of 'unit_id' or 'units'")
        if self.log_exposures:
            # The attributes become exposure columns: the rules of POST /v1/exposures apply.
            for where, attrs in [("attributes", self.attributes)] + [
                (f"units.{i}.attributes", u.attributes) for i, u in enumerate(self.units or [])
            ]:
                try:
                    _check_names(attrs, EXPOSURE_COLUMNS)
                except ValueError as exc:
                    raise ValueError(f"{where}: {exc} (log_exposures stores them)") from exc
        return self


class AssignmentPublic(BaseModel):
    """The variant of a unit (null when not enrolled) and why."""

    unit_id: str
    variant: str | None
    reason: str


class AssignResponse(BaseModel):
    """Assignments in request order."""

    experiment: str
    phase: int
    assignments: list[AssignmentPublic]
    exposures_stored: int | None = None


class EventIn(_Body):
    """One thing a unit did; ``event_id`` makes retries safe (stored once)."""

    event_id: str = Text
    unit_id: str = Text
    event: str = Text
    timestamp: datetime
    value: float | None = Field(default=None, allow_inf_nan=False)
    properties: dict[str, str | float | None] = {}

    _utc = field_validator("timestamp")(_utc)

    @field_validator("properties")
    @classmethod
    def _names(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _check_names(v, {"event_id", "unit_id", "event", "timestamp", "value"})


class ExposureIn(_Body):
    """One time a unit saw a variant; exact repeats are stored once."""

    experiment: str = Text
    unit_id: str = Text
    variant: str = Text
    timestamp: datetime
    phase: int | None = Field(default=None, ge=0, le=MAX_PHASE)
    attributes: dict[str, AttributeText | None] = {}

    _utc = field_validator("timestamp")(_utc)

    @field_validator("attributes")
    @classmethod
    def _names(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _check_names(v, EXPOSURE_COLUMNS)


def _check_names(values: dict[str, Any], reserved: set[str]) -> dict[str, Any]:
    for name, value in values.items():
        if not re.match(NAME, name) or len(name) > 64:
            raise ValueError(f"{name!r} is not a valid name (letters, digits, _; at most 64)")
        if name in reserved or name.startswith("__"):
            raise ValueError(f"{name!r} is a reserved column name")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name!r} must be a finite number")
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(f"{name!r} is not valid Unicode (a lone surrogate)") from exc
    return values


class EventsBatch(_Body):
    """A batch of events: stored all together or not at all."""

    events: list[EventIn] = Field(min_length=1)


class ExposuresBatch(_Body):
    """A batch of exposures: stored all together or not at all."""

    exposures: list[ExposureIn] = Field(min_length=1)


class ErrorPublic(BaseModel):
    """Every error reply: the kind of error and a message saying what, where and what to do."""

    error: str
    detail: str
    problems: list[dict[str, str]] | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorPublic, "description": text}
    for code, text in {
        401: "Missing, unknown or revoked API key",
        403: "The key's scope does not allow this",
        404: "Not found",
        409: "Not allowed in the current state, or a conflict",
        413: "Request body too large",
        422: "Invalid request (the field and row at fault are named)",
    }.items()
}


class IngestResult(BaseModel):
    """Acknowledgement, sent only once the batch is committed to the store."""

    received: int
    stored: int
    duplicates: int


class FeaturesPayload(BaseModel):
    """What the SDK needs to assign locally: the specs of running experiments."""

    generated_at: datetime
    refresh_seconds: float
    experiments: list[ExperimentPublic]
