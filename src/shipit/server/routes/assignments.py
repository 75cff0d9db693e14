"""``POST /v1/assign``: the variant of one unit or of a batch, by ``shipit.assign``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from shipit.errors import InputError
from shipit.server.deps import SdkKey, ServicesDep
from shipit.server.routes.ingest import store_rows, to_table
from shipit.server.schemas import ERRORS, AssignRequest, AssignResponse

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["assignments"], responses=ERRORS)


@router.post("/assign", response_model=AssignResponse)
async def assign(body: AssignRequest, services: ServicesDep, key: SdkKey) -> Any:
    """Assign units of a running experiment; units not enrolled get ``variant: null`` and the
    reason (``not_targeted``, ``outside_traffic``, ...)."""
    cached = services.assigner_cache.peek(body.experiment) is not None
    if cached and body.unit_id is not None and not body.log_exposures:
        # One unit of a compiled experiment: microseconds of CPU, answered on the event loop
        # (a hop to the thread pool would cost more than the assignment). ``assigner`` finds
        # it cached, and past half its life has it compiled again in the background.
        return _assign(body, services, services.assigner(body.experiment))
    return await run_in_threadpool(_assign, body, services, None)


def _assign(body: AssignRequest, services: Any, compiled: tuple[Any, int] | None) -> Response:
    """The assignment response (``compiled``: the cached experiment, None to look it up)."""
    assigner, phase = compiled if compiled is not None else services.assigner(body.experiment)
    telemetry = services.telemetry
    if body.unit_id is not None:
        one = assigner.assign(body.unit_id, body.attributes)
        telemetry.assignments.labels(body.experiment).inc()
        ids, variants, reasons = [body.unit_id], [one.variant], [str(one.reason)]
    else:
        units = body.units or []
        limit = services.settings.max_batch_rows
        if len(units) > limit:
            raise InputError(f"units: {len(units)} units in one request; the limit is {limit}")
        ids = [u.unit_id for u in units]
        names = sorted({name for u in units for name in u.attributes})
        columns = {n: [u.attributes.get(n) for u in units] for n in names}
        batch = assigner.assign_batch(np.array(ids, dtype=object), columns or None)
        telemetry.assignments.labels(body.experiment).inc(len(units))
        variants = batch.variant_array().tolist()
        reasons = [str(r) for r in batch.reasons()]
    # Built directly (the schema is AssignResponse): large batches skip re-validation.
    rows = [
        {"unit_id": u, "variant": v, "reason": r}
        for u, v, r in zip(ids, variants, reasons, strict=True)
    ]
    payload: dict[str, Any] = {"experiment": body.experiment, "phase": phase, "assignments": rows}
    if body.log_exposures:
        attributes = [body.attributes] if body.units is None else [u.attributes for u in body.units]
        payload["exposures_stored"] = _log_exposures(
            services, body.experiment, phase, rows, attributes
        )
    return Response(orjson.dumps(payload), media_type="application/json")


def _log_exposures(
    services: Any,
    experiment: str,
    phase: int,
    rows: list[dict[str, Any]],
    attributes: list[dict[str, Any]],
) -> int:
    """Store an exposure now for every enrolled unit; the number stored."""
    now = datetime.now(UTC).isoformat()
    exposures = [
        {
            "experiment": experiment,
            "phase": phase,
            "unit_id": row["unit_id"],
            "variant": row["variant"],
            "timestamp": now,
            **attrs,
        }
        for row, attrs in zip(rows, attributes, strict=True)
        if row["variant"] is not None
    ]
    if not exposures:
        return 0
    fixed = ["experiment", "phase", "unit_id", "variant", "timestamp"]
    table = to_table(exposures, fixed, "exposures")
    return store_rows(services, services.engine, "exposures", table)
