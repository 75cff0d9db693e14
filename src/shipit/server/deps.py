"""Dependencies of the handlers, as ``Annotated`` aliases: ``RegistryDep``, ``EngineDep``, ..."""

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


def get_services(request: Request) -> Services:
    """The services of the app serving this request."""
    services: Services = request.app.state.services
    return services


def _settings(request: Request) -> ServerSettings:
    return get_services(request).settings


def _registry(request: Request) -> SqlAlchemyRepository:
    return get_services(request).registry


def _engine(request: Request) -> Engine:
    return get_services(request).engine


def _keys(request: Request) -> KeyRepository:
    return get_services(request).keys


def _telemetry(request: Request) -> Telemetry:
    return get_services(request).telemetry


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[ServerSettings, Depends(_settings)]
RegistryDep = Annotated[SqlAlchemyRepository, Depends(_registry)]
EngineDep = Annotated[Engine, Depends(_engine)]
KeysDep = Annotated[KeyRepository, Depends(_keys)]
TelemetryDep = Annotated[Telemetry, Depends(_telemetry)]
SdkKey = Annotated[ApiKey, Depends(require_sdk)]
ReadKey = Annotated[ApiKey, Depends(require_read)]
AdminKey = Annotated[ApiKey, Depends(require_admin)]
