"""``POST /v1/assign``: the variant of one unit or of a batch, by ``shipit.assign``."""

from __future__ import annotations

from typing import Any

import numpy as np

from fastapi import APIRouter

from shipit.assign import Assigner
from shipit.errors import InputError, StateError
from shipit.registry import Status
from shipit.server.deps import RegistryDep, SdkKey, SettingsDep, TelemetryDep
from shipit.server.schemas import AssignmentPublic, AssignRequest, AssignResponse

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["assignments"])


@router.post("/assign", response_model=AssignResponse)
def assign(
    body: AssignRequest,
    registry: RegistryDep,
    settings: SettingsDep,
    telemetry: TelemetryDep,
    key: SdkKey,
) -> Any:
    """Assign units of a running experiment; units not enrolled get ``variant: null`` and the
    reason (``not_targeted``, ``outside_traffic``, ...)."""
    record = registry.get(body.experiment)
    if record.status is not Status.RUNNING:
        raise StateError(
            f"experiment {body.experiment!r} is {record.status}; only a running experiment "
            "assigns units (start it first)"
        )
    assigner = Assigner(record.experiment)
    phase = record.phase.number if record.phase else 0
    if body.unit_id is not None:
        one = assigner.assign(body.unit_id, body.attributes)
        telemetry.assignments.labels(body.experiment).inc()
        rows = [AssignmentPublic(unit_id=body.unit_id, variant=one.variant, reason=one.reason)]
        return AssignResponse(experiment=body.experiment, phase=phase, assignments=rows)
    units = body.units or []
    if len(units) > settings.max_batch_rows:
        raise InputError(
            f"units: {len(units)} units in one request; the limit is {settings.max_batch_rows}"
        )
    ids = np.array([u.unit_id for u in units], dtype=object)
    names = sorted({name for u in units for name in u.attributes})
    columns = {n: [u.attributes.get(n) for u in units] for n in names}
    batch = assigner.assign_batch(ids, columns or None)
    telemetry.assignments.labels(body.experiment).inc(len(units))
    variants = batch.variant_array().tolist()
    reasons = batch.reasons()
    rows = [
        AssignmentPublic(unit_id=u.unit_id, variant=v, reason=r)
        for u, v, r in zip(units, variants, reasons, strict=True)
    ]
    return AssignResponse(experiment=body.experiment, phase=phase, assignments=rows)
