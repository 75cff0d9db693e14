"""Shadow predictions in the client: production's output is served, both are logged.

``shadow_row`` builds the row ``POST /v1/shadow`` takes and refuses, naming the field,
what the server would refuse: an output of the wrong kind for the experiment (a number
for scores, text for labels, a list of item ids for rankings), a non-finite score or
latency, an over-long id.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from shipit.errors import InputError
from shipit.sdk.buffer import Outbox
from shipit.sdk.rows import MAX_TEXT
from shipit.spec.experiment import Experiment

__all__ = ["MAX_RANKING", "ShadowLogging", "shadow_row"]

MAX_RANKING = 1000
MAX_LABEL = 1024


def _output(value: Any, kind: str, field: str) -> Any:
    """The output as sent, or InputError naming ``field``."""
    if value is None:
        return None
    if kind == "score":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{field}: scores are numbers, got {type(value).__name__}")
        if not math.isfinite(value):
            raise InputError(f"{field}: a score must be a finite number, got {value}")
        return float(value)
    if kind == "label":
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_LABEL:
            raise InputError(f"{field}: labels are text of 1 to {MAX_LABEL} characters")
        return value
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InputError(f"{field}: rankings are lists of item ids, got {type(value).__name__}")
    items = [str(v) for v in value]
    if len(items) > MAX_RANKING:
        raise InputError(f"{field}: a ranking has at most {MAX_RANKING} items, got {len(items)}")
    if any(not 1 <= len(v) <= MAX_TEXT for v in items):
        raise InputError(f"{field}: item ids are text of 1 to {MAX_TEXT} characters")
    return items


def _ms(value: float | None, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{field}: a latency is a finite number of milliseconds, got {value!r}")
    if value < 0:
        raise InputError(f"{field}: a latency cannot be negative, got {value}")
    return float(value)


def shadow_row(
    experiment: Experiment,
    phase: int,
    unit_id: str,
    request_id: str,
    *,
    production: Any,
    candidate: Any,
    production_ms: float | None = None,
    candidate_ms: float | None = None,
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """One shadow row for ``POST /v1/shadow`` (InputError naming the field when the server
    would refuse it)."""
    if experiment.type != "shadow" or experiment.shadow is None:
        raise InputError(f"experiment {experiment.key!r} is not a shadow experiment")
    for name, text in (("unit_id", unit_id), ("request_id", request_id)):
        if not 1 <= len(text) <= MAX_TEXT:
            raise InputError(f"{name}: 1 to {MAX_TEXT} characters, got {len(text)}")
    kind = experiment.shadow.output
    row = {
        "experiment": experiment.key,
        "phase": phase,
        "request_id": request_id,
        "unit_id": unit_id,
        "timestamp": (timestamp or datetime.now(UTC)).isoformat(),
        "production": _output(production, kind, "production"),
        "candidate": _output(candidate, kind, "candidate"),
        "production_ms": _ms(production_ms, "production_ms"),
        "candidate_ms": _ms(candidate_ms, "candidate_ms"),
    }
    if row["production"] is None and row["candidate"] is None:
        raise InputError("production and candidate are both missing: give at least one")
    return row


class ShadowLogging:
    """``ShipitClient.shadow``: serve production's output, log both for the analysis."""

    _experiments: dict[str, Any]
    _shadow: Outbox

    def assign(
        self,
        experiment: str,
        unit_id: str | int,
        attributes: Mapping[str, Any] | None = None,
        *,
        log_exposure: bool = True,
    ) -> Any: ...

    def shadow(
        self,
        experiment: str,
        unit_id: str | int,
        request_id: str,
        *,
        production: Any,
        candidate: Any,
        production_ms: float | None = None,
        candidate_ms: float | None = None,
        attributes: Mapping[str, Any] | None = None,
        timestamp: datetime | None = None,
    ) -> Any:
        """Production's output, to serve. For an enrolled unit of a running shadow
        experiment the unit's exposure (to production) and both outputs are queued, the
        latter for ``POST /v1/shadow``; the candidate's output is never returned. Raises
        InputError (naming the field) for a row the server would refuse."""
        c = self._experiments.get(experiment)
        if c is None or c.assigner.assign(unit_id, attributes).variant is None:
            return production
        row = shadow_row(
            c.assigner.experiment,
            c.phase,
            str(unit_id),
            request_id,
            production=production,
            candidate=candidate,
            production_ms=production_ms,
            candidate_ms=candidate_ms,
            timestamp=timestamp,
        )
        self.assign(experiment, unit_id, attributes)
        self._shadow.put([row])
        return production
