"""What one running app holds: settings, the registry, the key store, the event store.

Built by ``create_app`` (or handed to it by tests), kept on ``app.state.services`` and
reached by handlers through the ``…Dep`` aliases of ``deps.py``.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

from shipit.assign import Assigner
from shipit.errors import StateError
from shipit.registry import SqlAlchemyRepository, Status
from shipit.registry.analyses import AnalysisRepository
from shipit.registry.keys import ApiKey, KeyRepository
from shipit.server.cache import TtlCache
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
    key_cache: TtlCache[str, ApiKey] = field(default_factory=lambda: TtlCache(0.0))
    assigner_cache: TtlCache[str, tuple[Assigner, int]] = field(
        default_factory=lambda: TtlCache(0.0)
    )

    def verify_key(self, token: str) -> ApiKey:
        """The active key behind ``token`` (checked at most every ``cache_seconds``)."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        return self.key_cache.get(digest, lambda: self.keys.verify(token))

    def assigner(self, experiment: str) -> tuple[Assigner, int]:
        """The compiled running experiment and its phase (StateError when not running)."""

        def make() -> tuple[Assigner, int]:
            record = self.registry.get(experiment)
            if record.status is not Status.RUNNING:
                raise StateError(
                    f"experiment {experiment!r} is {record.status}; only a running experiment "
                    "assigns units (start it first)"
                )
            return Assigner(record.experiment), record.phase.number if record.phase else 0

        return self.assigner_cache.get(experiment, make)

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
        key_cache=TtlCache(settings.cache_seconds),
        assigner_cache=TtlCache(settings.cache_seconds),
    )
