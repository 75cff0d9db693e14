"""ServerSettings: every knob of the server, read from ``SHIPIT_*`` variables at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServerSettings"]


class ServerSettings(BaseSettings):
    """Validated server configuration; ``ServerSettings()`` reads the environment."""

    model_config = SettingsConfigDict(env_prefix="SHIPIT_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Registry database URL (default: the SQLite file .shipit/shipit.db; PostgreSQL by URL).
    database_url: str | None = None
    # Event store: a DuckDB file, ``:memory:`` or an engine URL (default .shipit/store.duckdb).
    store: str | None = None
    # Largest request body accepted, in bytes, and rows per ingestion or assignment batch.
    max_body_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    max_batch_rows: int = Field(default=100_000, gt=0)
    # Seconds an API-key check and a compiled experiment are reused (0: never): a revoked key
    # or a stopped experiment stops working within this time on every replica.
    cache_seconds: float = Field(default=1.0, ge=0)
    # Seconds the SDK should wait between refreshes of its features payload.
    sdk_refresh_seconds: float = Field(default=30.0, gt=0)
    # Directory of shared metrics files that specs sent through the API may name in
    # ``metrics_files`` (relative paths inside it only). Unset: API specs define metrics inline.
    metrics_dir: Path | None = None
    # Serve the dashboard and /metrics without a key (only on a trusted network). Otherwise
    # they need a ``read`` or ``admin`` key: a bearer header, or a session from /login.
    open_dashboard: bool = False
    # Secret that signs dashboard session cookies (default: random per process, so sessions
    # end when the server restarts; set the same value on every replica).
    session_secret: str | None = Field(default=None, min_length=16)
    # Hours a dashboard session lasts.
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # How accepted batches reach the store. ``wal`` (default for a DuckDB file): logged
    # durably (fsync'd segment files beside the store) and acknowledged, then drained into the
    # store in bulk in the background. ``direct``: written into the store before the reply
    # (the only mode for ``:memory:`` and non-DuckDB stores). ``redis``: appended to a Redis
    # stream (``redis_url``) that a writer drains into the store.
    ingest: Literal["wal", "direct", "redis"] = "wal"
    # fsync policy of the ingest log: FULL (fdatasync before the reply) survives power loss;
    # NORMAL (no fsync) survives a killed process only, and is faster.
    ingest_sync: Literal["FULL", "NORMAL"] = "FULL"
    # Seconds the drainer waits for more batches when idle: the lag of reads at low traffic.
    drain_interval: float = Field(default=0.2, gt=0)
    # Property (events) and attribute (exposures) columns ingestion may add to a table;
    # a batch naming a new one beyond this is refused with a 422 naming it.
    max_property_columns: int = Field(default=64, ge=0, le=10_000)
    # Where analyses run. ``process`` (default): a worker process runs an analysis's Python
    # (SQL compilation, statistics, verdict, JSON) while its SQL runs on this process's read
    # cursor of the store, so the event loop never waits for the interpreter. ``thread``: all
    # of it in a thread of this process (embedding, or where processes cannot be spawned).
    analysis_worker: Literal["process", "thread"] = "process"
    # Threads DuckDB may use (a DuckDB store; unset: one per core). An analysis's SQL runs
    # in the server's process: on a small machine, cores - 1 leaves a core to the requests.
    store_threads: int | None = Field(default=None, ge=1)
    # Redis for ``ingest = "redis"``.
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_stream: str = "shipit:ingest"
    # Run the monitor (scheduled analyses, alerts, automatic rollback) in the background,
    # waking every this many seconds; with several replicas a lease lets one work at a time.
    monitor: bool = False
    monitor_interval_seconds: float = Field(default=60.0, gt=0)
    # Base URL of the dashboard for links in notifications (default: http://host:port).
    dashboard_url: str = ""
