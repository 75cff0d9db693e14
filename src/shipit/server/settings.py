"""ServerSettings: every knob of the server, read from ``SHIPIT_*`` variables at the edge."""

from __future__ import annotations

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
