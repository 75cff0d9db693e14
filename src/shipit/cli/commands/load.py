"""``shipit load exposures|events|units FILE``: validated, atomic, idempotent loading."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

LARGE_FILE = 16 << 20  # bytes; smaller files load too fast to need a bar


class Table(StrEnum):
    """The store tables that can be loaded."""

    exposures = "exposures"
    events = "events"
    units = "units"
    shadow_predictions = "shadow_predictions"


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("load")
    def load_command(
        table: Annotated[Table, typer.Argument(help="Which table to append to.")],
        file: Annotated[Path, typer.Argument(help="A CSV or Parquet file.")],
        store: Annotated[
            str | None,
            typer.Option("--store", help="Store path or URL (default .shipit/store.duckdb)."),
        ] = None,
        null_values: Annotated[
            list[str] | None,
            typer.Option(
                "--null-values",
                help="CSV texts read as missing besides an empty field, comma-separated or "
                "repeated (e.g. --null-values NA,null). By default NA, null and NaN are text.",
            ),
        ] = None,
        delimiter: Annotated[
            str | None,
            typer.Option(
                "--delimiter",
                help="CSV delimiter (default: detected from the header among , ; tab |).",
            ),
        ] = None,
    ) -> None:
        """Append a file to the store: all rows or none, and never the same event twice."""
        from shipit.store.engine import connect
        from shipit.store.loaders import load

        nulls = [v for given in null_values or [] for v in given.split(",")]
        if delimiter in ("\\t", "tab"):
            delimiter = "\t"
        engine = connect(store)
        err = Console(stderr=True)
        size = file.stat().st_size if file.is_file() else 0
        try:
            if size >= LARGE_FILE and err.is_terminal:
                from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

                with Progress(
                    "[progress.description]{task.description}",
                    BarColumn(),
                    DownloadColumn(),
                    TimeRemainingColumn(),
                    console=err,
                    transient=True,
                ) as bar:
                    task = bar.add_task(f"loading {file.name}", total=size)
                    n = load(
                        engine,
                        table.value,
                        file,
                        progress=lambda done, total: bar.update(task, completed=done, total=total),
                        null_values=nulls,
                        delimiter=delimiter,
                    )
            else:
                n = load(engine, table.value, file, null_values=nulls, delimiter=delimiter)
        finally:
            engine.close()
        typer.echo(f"loaded {n} new rows into {table.value}")
