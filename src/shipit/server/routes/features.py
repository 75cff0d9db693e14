"""``GET /v1/features``: the running experiments' specs, for local assignment in the SDK.

The reply carries an ETag; a client sending it back in ``If-None-Match`` gets 304 while
nothing changed.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from shipit.registry import Status
from shipit.server.deps import RegistryDep, SdkKey, SettingsDep
from shipit.server.routes.bandits import serving
from shipit.server.schemas import ERRORS, FeaturesPayload

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["features"], responses=ERRORS)


@router.get(
    "/features",
    response_model=FeaturesPayload,
    responses={304: {"description": "Not modified since the ETag sent"}},
)
def read_features(
    request: Request, registry: RegistryDep, settings: SettingsDep, key: SdkKey
) -> Any:
    """Specs of every running experiment."""
    now = datetime.now(UTC)
    # A bandit's spec carries the weights of its current allocation period.
    running = [serving(r, registry, now) for r in registry.list_experiments(Status.RUNNING)]
    running.sort(key=lambda e: e.key)
    identity = "\n".join(f"{e.key}:{e.phase}:{e.spec}" for e in running)
    etag = '"' + hashlib.sha256(identity.encode()).hexdigest()[:32] + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    payload = FeaturesPayload(
        generated_at=now, refresh_seconds=settings.sdk_refresh_seconds, experiments=running
    )
    return Response(
        payload.model_dump_json(), media_type="application/json", headers={"ETag": etag}
    )
