"""Experiments: create from a spec (JSON or YAML), read, list, edit while draft, lifecycle,
audit history. Every change goes through the registry, which enforces the rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, status

from shipit.errors import InputError, SpecError
from shipit.server.deps import AdminKey, RegistryDep, SdkKey
from shipit.server.schemas import (
    AuditEntryPublic,
    DecideRequest,
    ExperimentCreate,
    ExperimentPublic,
    ExperimentUpdate,
)
from shipit.spec import Experiment, loads_experiments

__all__ = ["router", "to_public"]

router = APIRouter(prefix="/v1/experiments", tags=["experiments"])


def _actor(key: Any) -> str:
    return f"key:{key.name} ({key.prefix})"


def to_public(record: Any, now: datetime | None = None) -> ExperimentPublic:
    """The public view of a registry record."""
    exp: Experiment = record.experiment
    started = getattr(record, "started_at", None)
    stopped = getattr(record, "stopped_at", None)
    days = None
    if started is not None:
        end = stopped or now or datetime.now(UTC)
        if started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        if end.tzinfo is None:
            end = end.replace(tzinfo=UTC)
        days = round((end - started).total_seconds() / 86400, 2)
    return ExperimentPublic(
        key=exp.key,
        name=exp.name,
        owner=exp.owner,
        status=str(record.status),
        phase=int(getattr(record, "phase", 1)),
        decision=getattr(record, "decision", None),
        created_at=getattr(record, "created_at", None),
        started_at=getattr(record, "started_at", None),
        stopped_at=stopped,
        days_running=days,
        spec=exp.to_dict(with_shared=True),
    )


def _experiment(body: ExperimentCreate) -> Experiment:
    """The spec of a request body, validated by ``shipit.spec`` (SpecError names the field)."""
    if body.yaml is not None:
        found = loads_experiments(body.yaml, source="request")
        if len(found) != 1:
            raise SpecError(f"request: expected one experiment, got {len(found)}")
        return found[0]
    try:
        return Experiment.model_validate(body.spec)
    except ValueError as exc:
        raise SpecError(f"request: invalid spec: {exc}") from exc


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ExperimentPublic)
def create_experiment(body: ExperimentCreate, registry: RegistryDep, key: AdminKey) -> Any:
    """Register a new experiment (draft) from its spec."""
    return to_public(registry.create(_experiment(body), actor=_actor(key)))


@router.get("", response_model=list[ExperimentPublic])
def list_experiments(
    registry: RegistryDep,
    key: SdkKey,
    status: str | None = Query(default=None, max_length=32),
    owner: str | None = Query(default=None, max_length=256),
) -> Any:
    """Experiments, optionally only those with a status or an owner."""
    return [to_public(r) for r in registry.list(status=status, owner=owner)]


@router.get("/{key}", response_model=ExperimentPublic)
def read_experiment(key: str, registry: RegistryDep, api_key: SdkKey) -> Any:
    """One experiment."""
    return to_public(registry.get(key))


@router.put("/{key}", response_model=ExperimentPublic)
def update_experiment(
    key: str, body: ExperimentUpdate, registry: RegistryDep, api_key: AdminKey
) -> Any:
    """Replace the spec of a draft experiment."""
    exp = _experiment(body)
    if exp.key != key:
        raise InputError(f"the spec's key {exp.key!r} differs from the URL's {key!r}")
    return to_public(registry.update(exp, actor=_actor(api_key)))


@router.post("/{key}/start", response_model=ExperimentPublic)
def start_experiment(key: str, registry: RegistryDep, api_key: AdminKey) -> Any:
    """Start enrolling units (draft → running)."""
    return to_public(registry.start(key, actor=_actor(api_key)))


@router.post("/{key}/stop", response_model=ExperimentPublic)
def stop_experiment(key: str, registry: RegistryDep, api_key: AdminKey) -> Any:
    """Stop enrolling units (running → stopped)."""
    return to_public(registry.stop(key, actor=_actor(api_key)))


@router.post("/{key}/decide", response_model=ExperimentPublic)
def decide_experiment(
    key: str, body: DecideRequest, registry: RegistryDep, api_key: AdminKey
) -> Any:
    """Record the decision (stopped → decided)."""
    return to_public(registry.decide(key, body.decision, actor=_actor(api_key)))


@router.get("/{key}/history", response_model=list[AuditEntryPublic])
def read_history(key: str, registry: RegistryDep, api_key: SdkKey) -> Any:
    """The audit log of an experiment, oldest first."""
    return [
        AuditEntryPublic(
            at=e.at, actor=e.actor, action=str(e.action), detail=dict(e.detail or {})
        )
        for e in registry.history(key)
    ]
