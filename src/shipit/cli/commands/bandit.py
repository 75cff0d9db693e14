"""``shipit bandit update KEY`` and ``shipit bandit periods KEY``: a served bandit's
allocation periods, and the step that opens the next one from the store."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipit.cli.commands._registry import DatabaseUrl, registry

if TYPE_CHECKING:
    from shipit.operate.bandit import BanditUpdate

bandit_app = typer.Typer(
    name="bandit",
    help="Bandit experiments: allocation periods and their updates.",
    no_args_is_help=True,
)


class Output(StrEnum):
    """How the periods are printed."""

    table = "table"
    json = "json"


def _print(result: BanditUpdate, fmt: Output, *, updating: bool = True) -> None:
    doc: dict[str, Any] = result.to_dict()
    if fmt is Output.json:
        typer.echo(json.dumps(doc, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    periods = doc["periods"]
    variants = list(periods[0]["weights"]) if periods else []
    table = Table(title=f"{result.key}: allocation periods")
    table.add_column("period", justify="right")
    table.add_column("started (UTC)")
    for v in variants:
        table.add_column(f"{v} weight", justify="right")
    table.add_column("reason")
    for p in periods:
        table.add_row(
            str(p["number"]),
            p["started_at"][:19].replace("T", " "),
            *(f"{p['weights'].get(v, 0.0):.1%}" for v in variants),
            p["reason"],
        )
    Console().print(table)
    if updating and result.period is None:
        typer.echo("not due: the current period has not lasted update_every (--force opens one)")


Store = Annotated[
    str | None,
    typer.Option("--store", help="Store path or URL (default .shipit/store.duckdb)."),
]


def register(app: typer.Typer) -> None:
    """Add the ``bandit`` sub-app to the app."""

    @bandit_app.command("update")
    def update(
        key: Annotated[str, typer.Argument(help="Registered bandit experiment key.")],
        store: Store = None,
        force: Annotated[
            bool, typer.Option("--force", help="Open the next period now, even if not due.")
        ] = False,
        fmt: Annotated[Output, typer.Option("--format", help="table or json.")] = Output.table,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Compute the next period's weights from the store's reward moments and record it,
        if the current period has lasted the spec's bandit.update_every."""
        from shipit.cli.commands.analyze import open_store
        from shipit.operate.bandit import update_bandit

        repo = registry(database_url)
        try:
            repo.get(key)  # NotFoundError before the store is opened
            engine = open_store(store)
            try:
                result = update_bandit(repo, engine, key, force=force)
            finally:
                engine.close()
        finally:
            repo.close()
        _print(result, fmt)

    @bandit_app.command("periods")
    def periods(
        key: Annotated[str, typer.Argument(help="Registered bandit experiment key.")],
        fmt: Annotated[Output, typer.Option("--format", help="table or json.")] = Output.table,
        database_url: DatabaseUrl = None,
    ) -> None:
        """The allocation periods of a started bandit's current phase, oldest first."""
        from shipit.operate.bandit import BanditUpdate
        from shipit.registry.bandits import BanditPeriods

        repo = registry(database_url)
        try:
            found = BanditPeriods(repo.engine).periods(repo, key)
        finally:
            repo.close()
        _print(BanditUpdate(key, None, tuple(found)), fmt, updating=False)

    app.add_typer(bandit_app)
