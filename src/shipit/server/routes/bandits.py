"""Bandit experiments over HTTP: their allocation periods, and the update that opens the
next one. The logic is ``shipit.operate.bandit``; assignment (``POST /v1/assign`` and the
SDK's features payload) serves the current period's weights."""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from shipit.assign.bandit import allocated
from shipit.registry import ExperimentRecord, SqlAlchemyRepository
from shipit.registry.bandits import BanditPeriods
from shipit.server.deps import AdminKey, ReadKey, ServicesDep
from shipit.server.routes.experiments import to_public
from shipit.server.schemas import ERRORS, ExperimentPublic

__all__ = ["router", "serving"]

router = APIRouter(prefix="/v1/experiments", tags=["bandits"], responses=ERRORS)


class BanditUpdateRequest(BaseModel):
    """``force``: open the next period now, even before ``update_every`` has passed."""

    model_config = ConfigDict(extra="forbid")

    force: bool = False


def serving(
    record: ExperimentRecord, registry: SqlAlchemyRepository, now: datetime | None = None
) -> ExperimentPublic:
    """The public view of a running experiment as it serves now: a bandit's spec carries
    its current allocation period's weights (what the SDK assigns with)."""
    public = to_public(record, registry, now)
    weights = BanditPeriods(registry.engine).current(record)
    if weights is None:
        return public
    spec = allocated(record.experiment, weights).to_dict(with_shared=True)
    return public.model_copy(update={"spec": spec})


def _periods(services: Any, key: str) -> dict[str, Any]:
    from shipit.operate.bandit import BanditUpdate

    periods = BanditPeriods(services.registry.engine).periods(services.registry, key)
    return BanditUpdate(key, None, tuple(periods)).to_dict()


@router.get("/{key}/bandit", response_model=dict[str, Any])
def read_bandit(key: str, services: ServicesDep, api_key: ReadKey) -> Any:
    """The allocation periods of a started bandit's current phase, oldest first."""
    return _periods(services, key)


def _update(services: Any, key: str, force: bool) -> dict[str, Any]:
    from shipit.operate.bandit import update_bandit

    services.registry.get(key)  # NotFoundError before any work
    services.ingest.flush()  # every acknowledged exposure and event counts
    engine, shared = services.reader()
    with services.store_lock if shared else nullcontext():
        result = update_bandit(services.registry, engine, key, force=force)
    services.forget_experiment(key)  # this process serves the new weights at once
    return result.to_dict()


@router.post("/{key}/bandit/update", response_model=dict[str, Any])
async def update_bandit_weights(
    key: str, body: BanditUpdateRequest, services: ServicesDep, api_key: AdminKey
) -> Any:
    """Compute the next period's weights from the store and record them, if the current
    period has lasted ``update_every`` (or ``force``); ``updated`` says whether it did."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        services.analysis_pool, lambda: _update(services, key, body.force)
    )
