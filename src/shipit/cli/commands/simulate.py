"""``shipit simulate ...``: simulation studies, one sub-command each (``simulate peeking``)."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shipit.cli.commands.stats import OutputFormat, fail
from shipit.errors import ShipitError

simulate_app = typer.Typer(
    name="simulate", help="Simulation studies of the methods.", no_args_is_help=True
)


@simulate_app.command("peeking")
def peeking(
    experiments: Annotated[int, typer.Option("--experiments", help="A/A experiments")] = 10_000,
    looks: Annotated[int, typer.Option("--looks", help="looks per experiment")] = 100,
    batch: Annotated[int, typer.Option("--batch", help="units per variant between looks")] = 500,
    rate: Annotated[float, typer.Option("--rate", help="conversion rate of both variants")] = 0.1,
    alpha: Annotated[float, typer.Option("--alpha")] = 0.05,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="json or a rich table")
    ] = OutputFormat.table,
) -> None:
    """False positive rate of naive peeking vs always-valid vs group-sequential tests."""
    from shipit.sim.peeking import simulate_peeking

    try:
        result = simulate_peeking(
            experiments=experiments, looks=looks, batch=batch, rate=rate, alpha=alpha, seed=seed
        )
    except ShipitError as exc:
        raise fail(exc) from exc
    if output_format is OutputFormat.json:
        data = dataclasses.asdict(result)
        data["methods"] = result.records()
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table(
        title=f"A/A false positive rate: {experiments:,} experiments × {looks} looks, "
        f"alpha {alpha:g}"
    )
    for col in ("method", "false positive rate", "± s.e.", "× alpha"):
        table.add_column(col, justify="right" if col != "method" else "left")
    for row in result.records():
        table.add_row(
            str(row["method"]),
            f"{row['false_positive_rate']:.4f}",
            f"{row['std_error']:.4f}",
            f"{row['times_alpha']:.2f}",
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` group to the app (other studies add commands to simulate_app)."""
    app.add_typer(simulate_app, name="simulate")
