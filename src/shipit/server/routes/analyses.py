"""Analyses: run ``shipit.analysis.analyze_registered`` on an experiment (its current phase),
or fetch the latest run, as the stable JSON of ``shipit.result.schema``."""

from __future__ import annotations

import asyncio
import json
from contextlib import nullcontext
from typing import Any

from fastapi import APIRouter, status

from shipit.errors import DataError, EngineError, ShipitError
from shipit.server.deps import AdminKey, ReadKey, ServicesDep
from shipit.server.routes.experiments import actor_of
from shipit.server.schemas import ERRORS, ErrorPublic
from shipit.spec import Experiment

__all__ = ["UnavailableError", "router", "run_analysis"]

router = APIRouter(prefix="/v1/experiments", tags=["analyses"], responses=ERRORS)


class UnavailableError(ShipitError):
    """A capability this build of the server does not have."""

    http_status = 501


_USES_VALUE = {"sum", "count_distinct", "max"}


def check_columns(engine: Any, experiment: Experiment) -> None:
    """Every column a metric reads exists in the store: DataError (422) naming the metric
    otherwise, where the engine would fail (and a client would retry a 5xx forever)."""
    if experiment.source is not None:  # a per-unit table: its columns are checked on read
        return
    tables = {t: engine.columns(t) for t in ("events", "units")}
    for m in experiment.metric_defs().values():
        parts: list[Any] = [m] if m.event is not None else [m.numerator, m.denominator]
        needs = [("events", p.value) for p in parts if p.aggregation in _USES_VALUE]
        for c in m.covariates:
            if c.column is not None:
                needs.append(("units", c.column))
            elif c.aggregation in _USES_VALUE:
                needs.append(("events", c.value))
        for table, column in needs:
            have = tables[table]
            if have is not None and column not in have:
                raise DataError(
                    f"metric {m.name!r}: column {column!r} is not in the {table} table "
                    f"(it has {', '.join(sorted(have))}); fix the metric's value or load the column"
                )


def run_analysis(services: Any, key: str, *, actor: str) -> str:
    """Analyse ``key`` now, save the run in the registry and return its JSON.

    Every batch acknowledged before the call is drained into the store first; the analysis
    then reads its own snapshot (DuckDB: a separate cursor, no lock), so ingestion and the
    health probes go on while it runs. With a worker process (``services.worker``) the
    Python of the analysis runs there and only its SQL here."""
    try:
        from shipit.result.schema import to_json

        if services.worker is None:
            from shipit.analysis import analyze_registered
        else:
            import shipit.analysis.remote  # noqa: F401  (what the worker process runs)
    except ImportError as exc:
        raise UnavailableError("the analysis pipeline is not available in this build") from exc
    record = services.registry.get(key)  # NotFoundError before any work
    services.ingest.flush()
    engine, shared = services.reader()
    lock = services.store_lock if shared else nullcontext()
    try:
        if services.worker is None:
            with lock:
                check_columns(engine, record.experiment)
                body = to_json(analyze_registered(key, engine, services.registry))
        else:
            with lock:
                check_columns(engine, record.experiment)
            body = services.worker.analyze_registered(key, engine, services.registry, lock)
    except EngineError as exc:
        with lock:
            for table in ("exposures", "events"):
                if engine.columns(table) is None:
                    raise DataError(
                        f"{key}: no {table} are stored yet; send {table} before analysing"
                    ) from exc
        raise
    services.analyses.save(key, body, actor=actor)
    return str(body)


@router.post(
    "/{key}/analyses",
    status_code=status.HTTP_201_CREATED,
    response_model=dict[str, Any],
    responses={501: {"model": ErrorPublic, "description": "No analysis pipeline in this build"}},
)
async def create_analysis(key: str, services: ServicesDep, api_key: AdminKey) -> Any:
    """Run the analysis of an experiment now and keep it as the latest (in the analysis
    worker: the event loop and the request threads stay free while it runs)."""
    actor = actor_of(api_key)
    loop = asyncio.get_running_loop()
    body = await loop.run_in_executor(
        services.analysis_pool, lambda: run_analysis(services, key, actor=actor)
    )
    return json.loads(body)


@router.get("/{key}/analyses/latest", response_model=dict[str, Any])
def read_latest_analysis(key: str, services: ServicesDep, api_key: ReadKey) -> Any:
    """The latest analysis of an experiment."""
    services.registry.get(key)
    return json.loads(services.analyses.latest(key).body)
