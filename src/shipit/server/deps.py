"""Dependencies of the handlers, as ``Annotated`` aliases: ``RegistryDep``, ``EngineDep``, ...

They are coroutines: a sync dependency would cost every request a hop to the thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shipit.registry import SqlAlchemyRepository
from shipit.registry.keys import ApiKey, KeyRepository
from shipit.server.auth import require_admin, require_read, require_sdk
from shipit.server.services import Services
from shipit.server.settings import ServerSettings
from shipit.server.telemetry import Telemetry
from shipit.store.engine import Engine

__all__ = [
    "AdminKey",
    "EngineDep",
    "KeysDep",
    "ReadKey",
    "RegistryDep",
    "SdkKey",
    "ServicesDep",
    "SettingsDep",
    "TelemetryDep",
]


def _of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    """The services of the app serving this request."""
    return _of(request)


async def _settings(request: Request) -> ServerSettings:
    return _of(request).settings


async def _registry(request: Request) -> SqlAlchemyRepository:
    return _of(request).registry


async def _engine(request: Request) -> Engine:
    return _of(request).engine


async def _keys(request: Request) -> KeyRepository:
    return _of(request).keys


async def _telemetry(request: Request) -> Telemetry:
    return _of(request).telemetry


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[ServerSettings, Depends(_settings)]
RegistryDep = Annotated[SqlAlchemyRepository, Depends(_registry)]
EngineDep = Annotated[Engine, Depends(_engine)]
KeysDep = Annotated[KeyRepository, Depends(_keys)]
TelemetryDep = Annotated[Telemetry, Depends(_telemetry)]
SdkKey = Annotated[ApiKey, Depends(require_sdk)]
ReadKey = Annotated[ApiKey, Depends(require_read)]
AdminKey = Annotated[ApiKey, Depends(require_admin)]
