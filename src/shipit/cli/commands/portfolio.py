"""``shipit portfolio``: experiments per quarter, decisions, win rate, time to decision."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from shipit.cli.commands._registry import DatabaseUrl, registry


class Format(StrEnum):
    """Output formats."""

    table = "table"
    json = "json"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("portfolio")
    def portfolio_command(
        fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
        database_url: DatabaseUrl = None,
    ) -> None:
        """The program at a glance: experiments per quarter, decisions by kind, win rate,
        median days from start to decision, share halted by trust checks."""
        from shipit.operate.portfolio import portfolio

        repo = registry(database_url)
        try:
            result = portfolio(repo)
        finally:
            repo.close()
        if fmt is Format.json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
            return
        typer.echo(f"experiments: {result.experiments} ({result.never_started} never started)")
        for quarter, n in result.per_quarter.items():
            typer.echo(f"  started {quarter}: {n}")
        decisions = ", ".join(f"{d} {n}" for d, n in result.decisions.items()) or "none yet"
        typer.echo(f"decisions: {decisions}")
        typer.echo(f"win rate: {_share(result.win_rate)} of decisions ship")
        days = result.median_days_to_decision
        typer.echo(
            "median days from start to decision: " + ("—" if days is None else f"{days:.1f}")
        )
        typer.echo(
            f"halted by trust checks: {result.halted} of {result.analysed} analysed "
            f"({_share(result.halted_share)})"
        )
