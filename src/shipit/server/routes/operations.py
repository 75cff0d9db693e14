"""Operating a running experiment over HTTP: kill switch, ramp, guarded rollout, webhook
deliveries, and the portfolio. The logic is ``shipit.registry`` and ``shipit.operate``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from shipit.server.deps import AdminKey, ReadKey, RegistryDep
from shipit.server.routes.experiments import actor_of, to_public
from shipit.server.schemas import ERRORS, ExperimentPublic

__all__ = ["router"]

router = APIRouter(tags=["operations"], responses=ERRORS)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KillRequest(_Body):
    """Why the kill switch goes on (kept in the audit log)."""

    reason: str = Field(default="", max_length=2000)


class RampRequest(_Body):
    """The new traffic fraction of a running experiment."""

    traffic: float = Field(gt=0, le=1)
    reason: str = Field(default="", max_length=2000)


class RolloutStepPublic(BaseModel):
    """One step of the rollout plan."""

    percent: float
    min_days: int
    rollback_if: list[str]


class RolloutPublic(BaseModel):
    """Where the rollout stands and what blocks its next step."""

    key: str
    decision: str
    step: int
    steps: list[RolloutStepPublic]
    traffic: float
    breaches: list[str]
    blocked: list[str]


class DeliveryPublic(BaseModel):
    """One webhook notification's outcome; a failed one is sent again by later monitor
    runs (``resend`` counts them, ``resend_of`` and ``superseded_by`` link the rows)."""

    at: Any
    url: str
    rules: list[str]
    ok: bool
    attempts: int
    status_code: int | None
    error: str
    id: int | None = None
    format: str | None = None
    secret_env: str | None = None
    first_at: Any = None
    resend: int = 0
    resend_of: int | None = None
    superseded_by: int | None = None


def _rollout(status: Any) -> RolloutPublic:
    return RolloutPublic(
        key=status.key,
        decision=status.decision,
        step=status.step,
        steps=[
            RolloutStepPublic(
                percent=s.percent, min_days=s.min_days, rollback_if=list(s.rollback_if)
            )
            for s in status.steps
        ],
        traffic=status.traffic,
        breaches=list(status.breaches),
        blocked=list(status.blocked),
    )


@router.post("/v1/experiments/{key}/kill", response_model=ExperimentPublic)
def kill_experiment(key: str, body: KillRequest, registry: RegistryDep, api_key: AdminKey) -> Any:
    """Turn the kill switch on: everyone not forced gets control."""
    return to_public(registry.kill(key, actor_of(api_key), reason=body.reason), registry)


@router.post("/v1/experiments/{key}/ramp", response_model=ExperimentPublic)
def ramp_experiment(key: str, body: RampRequest, registry: RegistryDep, api_key: AdminKey) -> Any:
    """Change a running experiment's traffic (a new phase)."""
    record = registry.ramp(key, body.traffic, actor_of(api_key), reason=body.reason)
    return to_public(record, registry)


@router.get("/v1/experiments/{key}/rollout", response_model=RolloutPublic)
def read_rollout(key: str, registry: RegistryDep, api_key: ReadKey) -> Any:
    """The verdict's rollout plan, the step reached and what blocks the next one."""
    from shipit.operate.rollout import rollout_status

    return _rollout(rollout_status(registry, key))


@router.post("/v1/experiments/{key}/rollout/advance", response_model=RolloutPublic)
def advance_rollout(key: str, registry: RegistryDep, api_key: AdminKey) -> Any:
    """Take the next rollout step (409 while criteria are breached or too early)."""
    from shipit.operate.rollout import advance_rollout as advance

    return _rollout(advance(registry, key, actor_of(api_key)))


@router.get("/v1/experiments/{key}/deliveries", response_model=list[DeliveryPublic])
def read_deliveries(key: str, registry: RegistryDep, api_key: ReadKey) -> Any:
    """The monitor's webhook notifications about an experiment, oldest first."""
    from shipit.registry.monitoring import MonitorState

    registry.get(key)  # 404 for an unknown key
    return [
        DeliveryPublic(
            at=d.at,
            url=d.url,
            rules=d.rules,
            ok=d.ok,
            attempts=d.attempts,
            status_code=d.status_code,
            error=d.error,
            id=d.id,
            format=d.format,
            secret_env=d.secret_env,
            first_at=d.first_at,
            resend=d.resend,
            resend_of=d.resend_of,
            superseded_by=d.superseded_by,
        )
        for d in MonitorState(registry.engine).deliveries(key)
    ]


@router.get("/v1/portfolio", response_model=dict[str, Any])
def read_portfolio(registry: RegistryDep, api_key: ReadKey) -> Any:
    """Experiments per quarter, decisions by kind, win rate, days to decision, halted share."""
    from shipit.operate.portfolio import portfolio

    return portfolio(registry).to_dict()
