"""``shipit power``: units per variant, in total and days needed to detect an effect."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated

import typer
from rich.console import Console

from shipit.cli.commands.stats import OutputFormat, fail
from shipit.errors import ShipitError
from shipit.report.terminal import render_power_plan
from shipit.stats.power import plan_sample_size


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("power")
    def power(
        kind: Annotated[str, typer.Option("--kind", help="proportion, mean or ratio")],
        mde: Annotated[float, typer.Option("--mde", help="minimum detectable effect")],
        baseline: Annotated[
            float | None,
            typer.Option("--baseline", help="control rate (proportion) or mean (relative mde)"),
        ] = None,
        relative: Annotated[
            bool, typer.Option("--relative", help="mde is relative to the baseline")
        ] = False,
        alpha: Annotated[float, typer.Option("--alpha")] = 0.05,
        target_power: Annotated[float, typer.Option("--power")] = 0.8,
        variants: Annotated[int, typer.Option("--variants", help="control included")] = 2,
        sd: Annotated[
            float | None, typer.Option("--sd", help="per-unit sd (mean and ratio metrics)")
        ] = None,
        daily_units: Annotated[
            float | None, typer.Option("--daily-units", help="units entering per day")
        ] = None,
        alternative: Annotated[
            str, typer.Option("--alternative", help="two-sided, greater or less")
        ] = "two-sided",
        variance_reduction: Annotated[
            float, typer.Option("--variance-reduction", help="expected, e.g. from CUPED")
        ] = 0.0,
        output_format: Annotated[
            OutputFormat, typer.Option("--format", help="json or a rich table")
        ] = OutputFormat.table,
    ) -> None:
        """Sample size per variant and in total (and days, given daily traffic)."""
        try:
            plan = plan_sample_size(
                kind,
                mde,
                baseline=baseline,
                sd=sd,
                relative=relative,
                alpha=alpha,
                power=target_power,
                variants=variants,
                alternative=alternative,
                variance_reduction=variance_reduction,
                daily_units=daily_units,
            )
        except ShipitError as exc:
            raise fail(exc) from exc
        data = dataclasses.asdict(plan)
        if output_format is OutputFormat.json:
            typer.echo(json.dumps(data, indent=2))
        else:
            Console().print(render_power_plan(data))
