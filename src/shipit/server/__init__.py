"""The HTTP API and web dashboard (FastAPI): exposes the library, holds no logic of its own."""

from __future__ import annotations

from shipit.server.app import create_app
from shipit.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
