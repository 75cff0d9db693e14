"""Experiments: create from a spec (JSON or YAML), read, list, edit, lifecycle, audit history.

Every change goes through the registry, which enforces the lifecycle and phase rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, status

from shipit.errors import ConflictError, InputError, NotFoundError, ShipitError, SpecError
from shipit.registry import ExperimentRecord, SqlAlchemyRepository, Status
from shipit.registry.keys import ApiKey
from shipit.server.deps import AdminKey, ReadKey, RegistryDep, SettingsDep
from shipit.server.schemas import (
    ERRORS,
    AuditEntryPublic,
    DecideRequest,
    ExperimentCreate,
    ExperimentPublic,
    ExperimentUpdate,
)
from shipit.server.settings import ServerSettings
from shipit.spec import Experiment, loads_experiments
from shipit.spec.io import load_confined_metrics
from shipit.spec.limits import check_raw, check_storable

__all__ = ["actor_of", "router", "to_public"]


def _forget_changed(request: Request) -> Iterator[None]:
    """After (and before) a change to an experiment, drop its compiled assigner from this
    process's cache, so assignment follows the change at once here (other replicas and
    workers within ``cache_seconds``)."""
    key = request.path_params.get("key")
    services = request.app.state.services
    changes = request.method not in {"GET", "HEAD", "OPTIONS"}
    if changes and key and services is not None:
        services.forget_experiment(key)
    yield
    if changes and key and services is not None:
        services.forget_experiment(key)


router = APIRouter(
    prefix="/v1/experiments",
    tags=["experiments"],
    responses=ERRORS,
    dependencies=[Depends(_forget_changed)],
)


def actor_of(key: ApiKey) -> str:
    """The audit log's name for whoever holds ``key``."""
    return f"key:{key.name} ({key.prefix})"[:200]


def to_public(
    record: ExperimentRecord, registry: SqlAlchemyRepository, now: datetime | None = None
) -> ExperimentPublic:
    """The public view of a registry record (days running from the first phase's start)."""
    exp = record.experiment
    phases = registry.phases(exp.key) if record.status is not Status.DRAFT else []
    started = phases[0].started_at if phases else None
    stopped = phases[-1].ended_at if phases and record.status is not Status.RUNNING else None
    days = None
    if started is not None:
        end = stopped or now or datetime.now(UTC)
        days = round((end - started).total_seconds() / 86400, 2)
    return ExperimentPublic(
        key=exp.key,
        name=exp.name,
        owner=exp.owner,
        status=record.status.value,
        phase=record.phase.number if record.phase else (phases[-1].number if phases else 0),
        decision=record.decision.value if record.decision else None,
        created_at=record.created_at,
        started_at=started,
        stopped_at=stopped,
        days_running=days,
        spec=exp.to_dict(with_shared=True),
    )


def _experiment(body: ExperimentCreate, settings: ServerSettings) -> Experiment:
    """The spec of a request body, validated by ``shipit.spec`` (SpecError names the field)
    and checked to be storable; metrics files only from the configured metrics directory."""
    if body.yaml is not None:
        found = loads_experiments(
            body.yaml, source="request", base_dir=settings.metrics_dir, confine=True
        )
        if len(found) != 1:
            raise SpecError(f"request: expected one experiment, got {len(found)}")
        exp = found[0]
    else:
        spec = dict(body.spec or {})
        check_raw(spec)
        files = spec.get("metrics_files") or []
        if not isinstance(files, list):
            raise SpecError("request: metrics_files: expected a list of file names")
        try:
            shared = load_confined_metrics([str(f) for f in files], settings.metrics_dir)
        except (SpecError, NotFoundError) as exc:
            raise SpecError(f"request: metrics_files: {exc}") from exc
        if shared:
            spec["shared_metrics"] = [m.model_dump(mode="json") for m in shared]
        try:
            exp = Experiment.model_validate(spec)
        except ValueError as exc:
            raise SpecError(f"request: invalid spec: {exc}") from exc
    check_storable(exp)
    return exp


def _status(value: str | None) -> Status | None:
    if value is None:
        return None
    try:
        return Status(value)
    except ValueError as exc:
        known = ", ".join(s.value for s in Status)
        raise InputError(f"status: unknown status {value!r}; use one of {known}") from exc


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ExperimentPublic)
def create_experiment(
    body: ExperimentCreate, registry: RegistryDep, settings: SettingsDep, key: AdminKey
) -> Any:
    """Register a new experiment (draft) from its spec."""
    exp = _experiment(body, settings)
    try:
        record = registry.create(exp, actor_of(key))
    except ShipitError:
        raise
    except Exception as exc:
        # Two creates of one key at once: the loser's insert fails on the primary key.
        try:
            registry.get(exp.key)
        except NotFoundError:
            raise exc from None
        raise ConflictError(f"experiment {exp.key!r} already exists; nothing was created") from exc
    return to_public(record, registry)


@router.get("", response_model=list[ExperimentPublic])
def list_experiments(
    registry: RegistryDep,
    key: ReadKey,
    status: str | None = Query(default=None, max_length=32),
    owner: str | None = Query(default=None, max_length=256),
) -> Any:
    """Experiments, optionally only those with a status or an owner."""
    records = registry.list_experiments(_status(status))
    return [to_public(r, registry) for r in records if owner is None or r.experiment.owner == owner]


@router.get("/{key}", response_model=ExperimentPublic)
def read_experiment(key: str, registry: RegistryDep, api_key: ReadKey) -> Any:
    """One experiment."""
    return to_public(registry.get(key), registry)


@router.put("/{key}", response_model=ExperimentPublic)
def update_experiment(
    key: str,
    body: ExperimentUpdate,
    registry: RegistryDep,
    settings: SettingsDep,
    api_key: AdminKey,
) -> Any:
    """Replace the spec of a draft, or of a running experiment (randomization changes only
    with ``new_phase`` and a ``reason``)."""
    exp = _experiment(body, settings)
    if exp.key != key:
        raise InputError(f"the spec's key {exp.key!r} differs from the URL's {key!r}")
    record = registry.update(exp, actor_of(api_key), new_phase=body.new_phase, reason=body.reason)
    return to_public(record, registry)


@router.post("/{key}/start", response_model=ExperimentPublic)
def start_experiment(key: str, registry: RegistryDep, api_key: AdminKey) -> Any:
    """Start enrolling units (draft → running)."""
    return to_public(registry.start(key, actor_of(api_key)), registry)


@router.post("/{key}/stop", response_model=ExperimentPublic)
def stop_experiment(key: str, registry: RegistryDep, api_key: AdminKey) -> Any:
    """Stop enrolling units (running → stopped)."""
    return to_public(registry.stop(key, actor_of(api_key)), registry)


@router.post("/{key}/decide", response_model=ExperimentPublic)
def decide_experiment(
    key: str, body: DecideRequest, registry: RegistryDep, api_key: AdminKey
) -> Any:
    """Record the decision (stopped → decided)."""
    record = registry.decide(key, body.decision, actor_of(api_key), reason=body.reason)
    return to_public(record, registry)


@router.post("/{key}/archive", response_model=ExperimentPublic)
def archive_experiment(key: str, registry: RegistryDep, api_key: AdminKey) -> Any:
    """Archive a decided (or draft) experiment."""
    return to_public(registry.archive(key, actor_of(api_key)), registry)


@router.get("/{key}/history", response_model=list[AuditEntryPublic])
def read_history(key: str, registry: RegistryDep, api_key: ReadKey) -> Any:
    """The audit log of an experiment, oldest first."""
    registry.get(key)
    return [
        AuditEntryPublic(at=e.at, actor=e.actor, action=e.action, detail=dict(e.details or {}))
        for e in registry.audit(key)
    ]
