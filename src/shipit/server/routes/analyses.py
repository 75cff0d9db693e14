"""Analyses: run ``shipit.analysis.analyze_registered`` on an experiment (its current phase),
or fetch the latest run, as the stable JSON of ``shipit.result.schema``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, status

from shipit.errors import ShipitError
from shipit.server.deps import AdminKey, SdkKey, ServicesDep
from shipit.server.routes.experiments import actor_of
from shipit.server.schemas import ERRORS, ErrorPublic

__all__ = ["UnavailableError", "router", "run_analysis"]

router = APIRouter(prefix="/v1/experiments", tags=["analyses"], responses=ERRORS)


class UnavailableError(ShipitError):
    """A capability this build of the server does not have."""

    http_status = 501


def run_analysis(services: Any, key: str, *, actor: str) -> str:
    """Analyse ``key`` now, save the run in the registry and return its JSON."""
    try:
        from shipit.analysis import analyze_registered
        from shipit.result.schema import to_json
    except ImportError as exc:
        raise UnavailableError("the analysis pipeline is not available in this build") from exc
    services.registry.get(key)  # NotFoundError before any work
    with services.store_lock:
        analysis = analyze_registered(key, services.engine, services.registry)
    body = to_json(analysis)
    services.analyses.save(key, body, actor=actor)
    return str(body)


@router.post(
    "/{key}/analyses",
    status_code=status.HTTP_201_CREATED,
    response_model=dict[str, Any],
    responses={501: {"model": ErrorPublic, "description": "No analysis pipeline in this build"}},
)
def create_analysis(key: str, services: ServicesDep, api_key: AdminKey) -> Any:
    """Run the analysis of an experiment now and keep it as the latest."""
    actor = actor_of(api_key)
    return json.loads(run_analysis(services, key, actor=actor))


@router.get("/{key}/analyses/latest", response_model=dict[str, Any])
def read_latest_analysis(key: str, services: ServicesDep, api_key: SdkKey) -> Any:
    """The latest analysis of an experiment."""
    services.registry.get(key)
    return json.loads(services.analyses.latest(key).body)
