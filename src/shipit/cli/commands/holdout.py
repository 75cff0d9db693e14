"""``shipit holdout KEY``: the long-term holdout against everyone exposed since the ship."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from shipit.cli.commands._registry import DatabaseUrl, registry
from shipit.cli.commands.analyze import Format
from shipit.errors import InputError


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("holdout")
    def holdout_command(
        key: Annotated[str, typer.Argument(help="Registered experiment key (with a holdout).")],
        since: Annotated[
            str | None,
            typer.Option("--since", help="When it shipped, ISO date or time (default: decided)."),
        ] = None,
        store: Annotated[
            str | None,
            typer.Option("--store", help="Store path or URL (default .shipit/store.duckdb)."),
        ] = None,
        fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Compare the experiment's holdout with everyone exposed since the ship, on its
        metrics: the effect that lasts (stored as experiment KEY.holdout)."""
        from shipit.cli.commands.analyze import open_store, rendered
        from shipit.operate.holdout import analyze_holdout, ship_time
        from shipit.report import render_terminal

        repo = registry(database_url)
        try:
            experiment = repo.get(key).experiment
            if since is None:
                start = ship_time(repo, key)
            else:
                try:
                    start = datetime.fromisoformat(since)
                except ValueError as exc:
                    raise InputError(f"--since {since!r} is not an ISO date or time") from exc
                start = start if start.tzinfo else start.replace(tzinfo=UTC)
        finally:
            repo.close()
        engine = open_store(store)
        try:
            analysis = analyze_holdout(experiment, engine, start)
        finally:
            engine.close()
        if fmt is Format.table:
            render_terminal(analysis)
        else:
            typer.echo(rendered(analysis, fmt))
