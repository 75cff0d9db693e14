"""``shipit version``."""

from __future__ import annotations

import typer

from shipit import __version__


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("version")
    def version() -> None:
        """Print the installed shipit version."""
        typer.echo(__version__)
