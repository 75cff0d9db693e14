"""What one running app holds: settings, the registry, the key store, the event store.

Built by ``create_app`` (or handed to it by tests), kept on ``app.state.services`` and
reached by handlers through the ``…Dep`` aliases of ``deps.py``.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from shipit.assign import Assigner
from shipit.assign.bandit import allocated
from shipit.errors import StateError
from shipit.registry import SqlAlchemyRepository, Status
from shipit.registry.analyses import AnalysisRepository
from shipit.registry.bandits import BanditPeriods
from shipit.registry.keys import ApiKey, KeyRepository
from shipit.server.cache import TtlCache
from shipit.server.settings import ServerSettings
from shipit.server.telemetry import Telemetry
from shipit.server.worker import AnalysisWorker
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
    # Where accepted batches go (``store.ingest``: the WAL, direct, or a broker); made from
    # ``settings.ingest`` when not given.
    ingest: Any = None
    # The analysis thread: one analysis at a time, off the event loop and the request
    # threads, reading its own snapshot of the store (and driving ``worker``, if any).
    analysis_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="shipit-analysis")
    )
    # The process that runs the Python of analyses (``settings.analysis_worker ==
    # "process"``); made from the settings when not given, started on first use.
    worker: AnalysisWorker | None = None
    _reader: Engine | None = None
    _probes: threading.local = field(default_factory=threading.local)

    def __post_init__(self) -> None:
        if self.ingest is None:
            self.ingest = open_ingest(self.settings, self.engine, self.store_lock)
        if self.worker is None and self.settings.analysis_worker == "process":
            self.worker = AnalysisWorker()

    def reader(self) -> tuple[Engine, bool]:
        """An engine for reads and whether it needs ``store_lock``: a DuckDB store gets its
        own cursor (a snapshot, no lock), other engines are shared."""
        if self._reader is None:
            make = getattr(self.engine, "reader", None)
            self._reader = make() if make is not None else self.engine
        return self._reader, self._reader is self.engine

    def probe(self) -> tuple[Engine, bool]:
        """An engine for readiness checks and whether it needs ``store_lock``: on DuckDB a
        cursor per request thread (never waits on a write or an analysis)."""
        make = getattr(self.engine, "reader", None)
        if make is None:
            return self.engine, True
        local = self._probes.__dict__
        if "engine" not in local:
            local["engine"] = make()
        return local["engine"], False

    def forget_experiment(self, experiment: str) -> None:
        """Drop the compiled experiment after a change (other replicas: ``cache_seconds``)."""
        self.assigner_cache.discard(experiment)

    def verify_key(self, token: str) -> ApiKey:
        """The active key behind ``token`` (checked at most every ``cache_seconds``)."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        return self.key_cache.get(digest, lambda: self.keys.verify(token))

    def cached_key(self, token: str) -> ApiKey | None:
        """The key behind ``token`` if checked within ``cache_seconds`` (None: ask
        ``verify_key``, which may query the registry)."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        return self.key_cache.peek(digest, lambda: self.keys.verify(token))

    def assigner(self, experiment: str) -> tuple[Assigner, int]:
        """The compiled running experiment and its phase (StateError when not running)."""

        def make() -> tuple[Assigner, int]:
            record = self.registry.get(experiment)
            if record.status is not Status.RUNNING:
                raise StateError(
                    f"experiment {experiment!r} is {record.status}; only a running experiment "
                    "assigns units (start it first)"
                )
            # A bandit serves the weights of its current allocation period.
            weights = BanditPeriods(self.registry.engine).current(record)
            serving = allocated(record.experiment, weights)
            return Assigner(serving), record.phase.number if record.phase else 0

        return self.assigner_cache.get(experiment, make)

    def close(self) -> None:
        """Drain ingestion, stop the analysis workers, release the store and the registry."""
        self.analysis_pool.shutdown(wait=True)
        if self.worker is not None:
            self.worker.close()
        self.ingest.close()
        if self._reader is not None and self._reader is not self.engine:
            self._reader.close()
        self.engine.close()
        self.registry.close()


def open_ingest(settings: ServerSettings, engine: Engine, lock: threading.Lock) -> Any:
    """The ingestion path ``settings.ingest`` names (``direct`` where a WAL cannot work)."""
    from shipit.store.duckdb import DuckDBEngine
    from shipit.store.ingest import DirectIngest, WalIngest

    limit = settings.max_property_columns
    embedded = isinstance(engine, DuckDBEngine) and engine.path != ":memory:"
    if settings.ingest == "redis":
        from shipit.store.broker import RedisIngest

        return RedisIngest(
            engine, lock, url=settings.redis_url, stream=settings.redis_stream,
            max_properties=limit, interval=settings.drain_interval,
        )  # fmt: skip
    if settings.ingest == "wal" and embedded:
        return WalIngest(
            engine,
            lock,
            max_properties=limit,
            synchronous=settings.ingest_sync,
            interval=settings.drain_interval,
        )
    return DirectIngest(engine, lock, limit)


def open_services(settings: ServerSettings, telemetry: Telemetry | None = None) -> Services:
    """Connect to the registry database (migrated) and the event store named by ``settings``."""
    from shipit.registry import open_registry
    from shipit.store.engine import connect

    registry = open_registry(settings.database_url)
    engine = connect(settings.store)
    if settings.store_threads is not None and getattr(engine, "dialect", None) == "duckdb":
        engine.execute(f"SET threads = {int(settings.store_threads)}")
    warm_analysis()
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


def warm_analysis() -> None:
    """Import the analysis stack now, at start: imported by the first analysis instead (its
    modules import SciPy and others lazily), it holds the GIL for a second or more and
    stalls every request meanwhile."""
    import importlib

    for name in (
        "shipit.analysis",
        "shipit.analysis.registered",
        "shipit.analysis.table",
        "shipit.analysis.policy",
        "shipit.result.schema",
        "scipy.stats",
        "scipy.special",
    ):
        try:
            importlib.import_module(name)
        except ImportError:  # a build without the analysis pipeline answers 501 then
            return
