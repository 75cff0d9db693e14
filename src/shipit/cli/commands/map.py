"""``shipit map exposures|events|units SOURCE``: a store table as a view over your own."""

from __future__ import annotations

from typing import Annotated

import typer

from shipit.cli.commands.load import Table
from shipit.errors import InputError


def pairs(given: list[str] | None, option: str) -> dict[str, str]:
    """``COL=VALUE`` options as a mapping; anything else is an InputError naming it."""
    out: dict[str, str] = {}
    for item in given or []:
        col, sep, value = item.partition("=")
        if not sep or not col.strip() or not value:
            raise InputError(f"{option} takes COLUMN=VALUE, got {item!r}")
        out[col.strip()] = value
    return out


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("map")
    def map_command(
        table: Annotated[Table, typer.Argument(help="The store table to define.")],
        source: Annotated[str, typer.Argument(help="An existing table in the store's engine.")],
        mapping: Annotated[
            list[str] | None,
            typer.Option(
                "--map",
                help="COLUMN=SOURCE_COLUMN: read a shipit column from a column of another "
                "name (repeat it: --map unit_id=customer_id --map timestamp=seen_at).",
            ),
        ] = None,
        constant: Annotated[
            list[str] | None,
            typer.Option(
                "--constant",
                help="COLUMN=VALUE: one value for every row (--constant experiment=checkout "
                "for a table of one experiment).",
            ),
        ] = None,
        store: Annotated[
            str | None,
            typer.Option("--store", help="Store path or URL (default .shipit/store.duckdb)."),
        ] = None,
    ) -> None:
        """Define a store table as a view over an existing table: nothing is copied."""
        from shipit.store.engine import connect, map_table

        columns = pairs(mapping, "--map")
        constants = pairs(constant, "--constant")
        engine = connect(store)
        try:
            view = map_table(engine, table.value, source, columns, constants=constants)
            have = engine.columns(view) or {}
        finally:
            engine.close()
        typer.echo(f"{table.value} is now a view over {source} (columns: {', '.join(have)})")
