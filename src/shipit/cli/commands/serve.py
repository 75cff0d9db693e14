"""``shipit serve``: the HTTP API and dashboard under uvicorn."""

from __future__ import annotations

from typing import Any

import typer

from shipit.errors import ShipitError


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("serve")
    def serve(
        host: str | None = typer.Option(None, help="Interface to listen on [127.0.0.1]."),
        port: int | None = typer.Option(None, help="Port to listen on [8000]."),
        database_url: str | None = typer.Option(
            None, "--database-url", help="Registry database URL [SHIPIT_DATABASE_URL]."
        ),
        store: str | None = typer.Option(
            None, help="Event store: DuckDB file or engine URL [SHIPIT_STORE]."
        ),
        log_level: str = typer.Option("info", help="uvicorn log level."),
        monitor: bool | None = typer.Option(
            None,
            "--monitor/--no-monitor",
            help="Run the monitor (scheduled analyses, alerts) in the background [SHIPIT_MONITOR].",
        ),
    ) -> None:
        """Serve the API and the dashboard (settings from SHIPIT_* variables and options)."""
        try:
            import uvicorn

            from shipit.server import ServerSettings, create_app
        except ImportError as exc:
            raise ShipitError(
                f"shipit serve needs the server packages ({exc.name or exc} is missing): "
                "pip install 'shipit[server]' (or reinstall shipit)"
            ) from exc

        given: dict[str, Any] = {
            "host": host,
            "port": port,
            "database_url": database_url,
            "store": store,
            "monitor": monitor,
        }
        settings = ServerSettings(**{k: v for k, v in given.items() if v is not None})
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=log_level,
            timeout_graceful_shutdown=5,
        )
