"""``POST /v1/shadow``: batches of shadow predictions, production's and the candidate's
output for one request, stored in the ``shadow_predictions`` table.

Each row names a registered shadow experiment; its outputs must have the experiment's
output kind (a number for scores, text for labels, a list of item ids for rankings). A bad
row is a 422 naming it and the field (``shadow.3.candidate``), and nothing of the batch is
stored. Like events, the batch is durable when the reply is sent and a retry is stored
once (rows are keyed by experiment and ``request_id``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from shipit.errors import InputError, NotFoundError
from shipit.server.deps import EngineDep, SdkKey, ServicesDep, SettingsDep
from shipit.server.routes.ingest import store_rows, to_table
from shipit.server.schemas import ERRORS, MAX_PHASE, IngestResult, Text
from shipit.spec.experiment import Experiment
from shipit.spec.shadow import roles
from shipit.store.tables import SHADOW

__all__ = ["ShadowBatch", "ShadowIn", "router"]

router = APIRouter(prefix="/v1", tags=["ingestion"], responses=ERRORS)

Item = Annotated[str, Field(min_length=1, max_length=256)]
Output = float | Annotated[str, Field(min_length=1, max_length=1024)] | list[Item]
# Items of one logged ranking.
MAX_RANKING = 1000


class ShadowIn(BaseModel):
    """One request seen by both models: production's output (served) and the candidate's
    (logged only), with each one's latency in milliseconds."""

    model_config = ConfigDict(extra="forbid")

    experiment: str = Text
    request_id: str = Text
    unit_id: str = Text
    timestamp: datetime
    phase: int | None = Field(default=None, ge=0, le=MAX_PHASE)
    production: Output | None = None
    candidate: Output | None = None
    production_ms: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    candidate_ms: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("production", "candidate")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("a score must be a finite number")
        if isinstance(value, list) and len(value) > MAX_RANKING:
            raise ValueError(f"a ranking has at most {MAX_RANKING} items, got {len(value)}")
        return value


class ShadowBatch(BaseModel):
    """A batch of shadow predictions: stored all together or not at all."""

    model_config = ConfigDict(extra="forbid")

    shadow: list[ShadowIn] = Field(min_length=1)


_KIND_OF = {"score": (float, int), "label": (str,), "ranking": (list,)}
_WORDS = {"score": "a number", "label": "a text label", "ranking": "a list of item ids"}


def check_output(value: Any, output: str, where: str) -> None:
    """An output of the wrong kind for the experiment is refused, naming ``where``."""
    if value is None:
        return
    ok = isinstance(value, _KIND_OF[output]) and not isinstance(value, bool)
    if not ok:
        raise InputError(
            f"{where}: the experiment's outputs are {output}s, so this must be "
            f"{_WORDS[output]}; got {type(value).__name__} {str(value)[:80]!r}"
        )


def shadow_rows(
    experiments: dict[str, tuple[Experiment, int]], body: ShadowBatch
) -> list[dict[str, Any]]:
    """The body's rows as columns of the shadow table, each checked against its spec; a
    row without a phase is in the experiment's current phase."""
    rows = []
    for i, x in enumerate(body.shadow):
        exp, current = experiments[x.experiment]
        assert exp.shadow is not None
        output = exp.shadow.output
        column = "score" if output == "score" else "label"
        row: dict[str, Any] = {
            "experiment": x.experiment,
            "phase": x.phase if x.phase is not None else current,
            "request_id": x.request_id,
            "unit_id": x.unit_id,
            "timestamp": x.timestamp.isoformat(),
        }
        for model in ("production", "candidate"):
            value = getattr(x, model)
            check_output(value, output, f"shadow.{i}.{model}")
            if output == "score" and value is not None:
                value = float(value)
            elif output == "ranking" and value is not None:
                value = orjson.dumps(value).decode()
            row[f"{model}_{column}"] = value
            row[f"{model}_{'label' if column == 'score' else 'score'}"] = None
            row[f"{model}_ms"] = getattr(x, f"{model}_ms")
        if x.production is None and x.candidate is None:
            raise InputError(f"shadow.{i}: give production, candidate or both")
        rows.append(row)
    return rows


def shadow_experiments(services: Any, body: ShadowBatch) -> dict[str, tuple[Experiment, int]]:
    """The registered shadow experiments the rows name, with their current phase (the
    first unknown one is named)."""
    found: dict[str, tuple[Experiment, int]] = {}
    for i, x in enumerate(body.shadow):
        if x.experiment in found:
            continue
        try:
            record = services.registry.get(x.experiment)
        except NotFoundError as exc:
            raise InputError(
                f"shadow.{i}.experiment: no experiment {x.experiment!r} is registered"
            ) from exc
        exp = record.experiment
        if exp.type != "shadow" or exp.shadow is None:
            raise InputError(
                f"shadow.{i}.experiment: {x.experiment!r} is a {exp.type} experiment, "
                "not a shadow one (type: shadow)"
            )
        roles(exp)
        found[x.experiment] = (exp, record.phase.number if record.phase is not None else 0)
    return found


@router.post("/shadow", response_model=IngestResult)
def ingest_shadow(
    body: ShadowBatch,
    services: ServicesDep,
    engine: EngineDep,
    settings: SettingsDep,
    key: SdkKey,
) -> Any:
    """Store a batch of shadow predictions (a request logged again is stored once)."""
    n = len(body.shadow)
    if n > settings.max_batch_rows:
        raise InputError(f"shadow: {n} rows in one batch; the limit is {settings.max_batch_rows}")
    rows = shadow_rows(shadow_experiments(services, body), body)
    data = to_table(rows, list(SHADOW.names), "shadow")
    stored = store_rows(services, engine, SHADOW.name, data)
    return IngestResult(received=n, stored=stored, duplicates=n - stored)
