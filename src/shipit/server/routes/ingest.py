"""``POST /v1/events`` and ``POST /v1/exposures``: batches stored by ``shipit.store``.

A batch is validated row by row (a bad row is named by index and field, and nothing is
stored), then appended in one transaction; the reply is sent only after the commit, and a
retried batch is stored once (events by ``event_id``, exposures by their full identity).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from fastapi import APIRouter

from shipit.errors import InputError, NotFoundError
from shipit.registry.keys import ApiKey
from shipit.server.deps import EngineDep, SdkKey, ServicesDep, SettingsDep
from shipit.server.schemas import ERRORS, EventsBatch, ExposuresBatch, IngestResult
from shipit.store.loaders import load

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["ingestion"], responses=ERRORS)


def to_table(rows: list[dict[str, Any]], fixed: list[str], what: str) -> pa.Table:
    """Rows to an Arrow table; extra fields become columns (absent → null)."""
    extra = sorted({k for r in rows for k in r} - set(fixed))
    columns = {c: [r.get(c) for r in rows] for c in (*fixed, *extra)}
    try:
        return pa.table(columns)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"{what}: a property mixes numbers and text across rows: {exc}") from exc


def store_rows(services: Any, engine: Any, table: str, data: pa.Table) -> int:
    """Validate and append ``data`` to a store table (one writer at a time); rows stored."""
    with services.store_lock:
        stored = load(engine, table, data)
    services.telemetry.ingested.labels(table).inc(data.num_rows)
    services.telemetry.stored.labels(table).inc(stored)
    return int(stored)


def check_registered(services: Any, key: ApiKey, experiments: list[str]) -> None:
    """An ``sdk`` key writes exposures of registered experiments only (the first unknown one
    is named with its row)."""
    if key.scope != "sdk":
        return
    known: set[str] = set()
    for i, name in enumerate(experiments):
        if name in known:
            continue
        try:
            services.registry.get(name)
        except NotFoundError as exc:
            raise InputError(
                f"exposures.{i}.experiment: no experiment {name!r} is registered; an sdk key "
                "sends exposures of registered experiments only"
            ) from exc
        known.add(name)


def _check_size(n: int, limit: int, what: str) -> None:
    if n > limit:
        raise InputError(f"{what}: {n} rows in one batch; the limit is {limit}")


@router.post("/events", response_model=IngestResult)
def ingest_events(
    body: EventsBatch,
    services: ServicesDep,
    engine: EngineDep,
    settings: SettingsDep,
    key: SdkKey,
) -> Any:
    """Store a batch of events (idempotent by ``event_id``)."""
    _check_size(len(body.events), settings.max_batch_rows, "events")
    rows = [
        {
            "event_id": e.event_id,
            "unit_id": e.unit_id,
            "event": e.event,
            "timestamp": e.timestamp.isoformat(),
            "value": e.value,
            **{k: float(v) if isinstance(v, bool) else v for k, v in e.properties.items()},
        }
        for e in body.events
    ]
    data = to_table(rows, ["event_id", "unit_id", "event", "timestamp", "value"], "events")
    stored = store_rows(services, engine, "events", data)
    n = len(rows)
    return IngestResult(received=n, stored=stored, duplicates=n - stored)


@router.post("/exposures", response_model=IngestResult)
def ingest_exposures(
    body: ExposuresBatch,
    services: ServicesDep,
    engine: EngineDep,
    settings: SettingsDep,
    key: SdkKey,
) -> Any:
    """Store a batch of exposures (an exact repeat is stored once)."""
    _check_size(len(body.exposures), settings.max_batch_rows, "exposures")
    check_registered(services, key, [x.experiment for x in body.exposures])
    rows = [
        {
            "experiment": x.experiment,
            "phase": x.phase if x.phase is not None else 0,
            "unit_id": x.unit_id,
            "variant": x.variant,
            "timestamp": x.timestamp.isoformat(),
            **x.attributes,
        }
        for x in body.exposures
    ]
    fixed = ["experiment", "phase", "unit_id", "variant", "timestamp"]
    data = to_table(rows, fixed, "exposures")
    stored = store_rows(services, engine, "exposures", data)
    n = len(rows)
    return IngestResult(received=n, stored=stored, duplicates=n - stored)
