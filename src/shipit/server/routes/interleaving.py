"""``POST /v1/interleave``: the team-draft list of one unit and query, its impressions stored.

The same merge as the SDK's ``client.interleave`` (``shipit.assign.interleave``): the
list, the ranker of each item and the session id come back; unless ``log`` is false, one
impression event per shown item goes through the ingestion path before the reply.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from shipit.assign.interleave import interleave
from shipit.server.deps import EngineDep, SdkKey, ServicesDep
from shipit.server.routes.ingest import store_rows, to_table
from shipit.server.schemas import ERRORS

__all__ = ["InterleaveRequest", "router"]

router = APIRouter(prefix="/v1", tags=["interleaving"], responses=ERRORS)

_FIXED = ["event_id", "unit_id", "event", "timestamp", "value"]


class InterleaveRequest(BaseModel):
    """Interleave the two rankers' lists (``rankings``: variant key → item ids, best
    first) of a running interleaving experiment for one unit and query."""

    model_config = ConfigDict(extra="forbid")

    experiment: str = Field(min_length=1, max_length=256)
    unit_id: str = Field(min_length=1, max_length=256)
    query: str = Field(default="", max_length=4096)
    rankings: dict[str, list[str | int]]
    attributes: dict[str, str | int | float | bool | None] = {}
    session_id: str | None = Field(default=None, min_length=1, max_length=256)
    log: bool = Field(default=True, description="Store the impressions (one per shown item).")


@router.post("/interleave", response_model=dict[str, Any])
def create_interleaving(
    body: InterleaveRequest, services: ServicesDep, engine: EngineDep, key: SdkKey
) -> Any:
    """The merged list and the ranker of each item; ``impressions_stored`` counts the
    impression events stored (0 for a list already shown, or one not interleaved)."""
    assigner, _phase = services.assigner(body.experiment)
    shown = interleave(
        assigner.experiment,
        body.unit_id,
        body.query,
        body.rankings,
        attributes=body.attributes,
        session_id=body.session_id,
        assigner=assigner,
    )
    out = shown.to_dict()
    stored = 0
    rows = shown.impressions() if body.log else []
    if rows:
        flat = [{**{k: r[k] for k in _FIXED}, **r["properties"]} for r in rows]
        stored = store_rows(services, engine, "events", to_table(flat, _FIXED, "impressions"))
    out["impressions_stored"] = stored
    return out
