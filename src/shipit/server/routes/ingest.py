"""``POST /v1/events`` and ``POST /v1/exposures``: batches stored by ``shipit.store``.

A batch is validated (a bad row is named by index and field, and nothing is stored), then
made durable by the ingestion path (``shipit.store.ingest``: by default an fsync'd log that
a background drainer moves into the store in bulk); the reply is sent only after that
commit, and a retried batch is stored once (events by ``event_id``, exposures by their full
identity). ``POST /v1/ingest/flush`` drains the log now; ``GET /v1/ingest`` shows the lag.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from fastapi import APIRouter

from shipit.errors import InputError, NotFoundError
from shipit.registry.keys import ApiKey
from shipit.server.deps import EngineDep, ReadKey, SdkKey, ServicesDep, SettingsDep
from shipit.server.schemas import ERRORS, EventsBatch, ExposuresBatch, IngestResult

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
    """Validate ``data`` and hand it to the ingestion path (durable when this returns);
    the rows accepted as new."""
    accepted = services.ingest.append(table, data)
    services.telemetry.ingested.labels(table).inc(data.num_rows)
    services.telemetry.stored.labels(table).inc(accepted.stored)
    return int(accepted.stored)


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


@router.get("/ingest", response_model=dict[str, Any])
def ingest_status(services: ServicesDep, key: ReadKey) -> Any:
    """The ingestion lag: batches and rows acknowledged but not yet in the store."""
    return services.ingest.pending()


@router.post("/ingest/flush", response_model=dict[str, Any])
def ingest_flush(services: ServicesDep, key: SdkKey) -> Any:
    """Drain every batch acknowledged so far into the store (reads then see them)."""
    services.ingest.flush()
    return services.ingest.pending()
