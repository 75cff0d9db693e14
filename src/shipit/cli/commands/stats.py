"""``shipit stats INPUT.json``: effects, intervals, p-values and SRM from per-variant sums."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from shipit.errors import InputError, NotFoundError, ShipitError


class OutputFormat(StrEnum):
    """How a command prints its result."""

    json = "json"
    table = "table"


def read_json(path: Path) -> Any:
    """The parsed JSON of a file; a clear error naming the file (and line) otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON at line {exc.lineno}: {exc.msg}") from exc


def fail(exc: ShipitError) -> typer.Exit:
    """Print a ShipitError as one line on stderr; the exit to raise with its code."""
    message = f"[bold red]error:[/] {escape(str(exc))}"  # the message is text, not markup
    Console(stderr=True).print(message, highlight=False, soft_wrap=True)
    return typer.Exit(exc.exit_code)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("stats")
    def stats(
        input_file: Annotated[Path, typer.Argument(metavar="INPUT.json", help="per-variant sums")],
        output_format: Annotated[
            OutputFormat, typer.Option("--format", help="json or a rich table")
        ] = OutputFormat.json,
    ) -> None:
        """Compare every variant with the control for every metric of INPUT.json."""
        from shipit.analysis.given.compute import run_stats
        from shipit.report.terminal import render_stats

        try:
            summary = run_stats(read_json(input_file))
        except ShipitError as exc:
            raise fail(exc) from exc
        if output_format is OutputFormat.json:
            typer.echo(json.dumps(summary, indent=2, allow_nan=False))
        else:
            console = Console()
            if not console.is_terminal:  # piped: wide enough for the whole table
                console = Console(width=max(console.width, 140))
            console.print(render_stats(summary))
