"""What one running app holds: settings, the registry, the key store, the event store.

Built by ``create_app`` (or handed to it by tests), kept on ``app.state.services`` and
reached by handlers through the ``…Dep`` aliases of ``deps.py``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from shipit.registry.analyses import AnalysisRepository
from shipit.registry import SqlAlchemyRepository
from shipit.registry.keys import KeyRepository
from shipit.server.settings import ServerSettings
from shipit.server.telemetry import Telemetry
from shipit.store.engine import Engine

__all__ = ["Services"]


@dataclass
class Services:
    """The app's connections; ``store_lock`` serializes writes to an embedded store."""

    settings: ServerSettings
    registry: SqlAlchemyRepository
    keys: KeyRepository
    analyses: AnalysisRepository
    engine: Engine
    telemetry: Telemetry = field(default_factory=Telemetry)
    store_lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        """Release the store and registry connections."""
        self.engine.close()
        self.registry.close()


def open_services(settings: ServerSettings, telemetry: Telemetry | None = None) -> Services:
    """Connect to the registry database (migrated) and the event store named by ``settings``."""
    from shipit.registry import open_registry
    from shipit.store.engine import connect

    registry = open_registry(settings.database_url)
    engine = connect(settings.store)
    return Services(
        settings=settings,
        registry=registry,
        keys=KeyRepository(registry.engine),
        analyses=AnalysisRepository(registry.engine),
        engine=engine,
        telemetry=telemetry or Telemetry(),
    )
