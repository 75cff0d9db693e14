"""``shipit power``: units per variant, in total and days needed to detect an effect.

With ``--n`` (units per variant) it answers the converse questions: the MDE at that n, or,
with ``--mde`` too, the power achieved.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Annotated, Any

import typer
from rich.console import Console

from shipit.cli.commands.stats import OutputFormat, fail
from shipit.errors import InputError, ShipitError


def at_n(
    kind: str,
    n: float,
    mde: float | None,
    *,
    baseline: float | None,
    sd: float | None,
    relative: bool,
    alpha: float,
    power: float,
    variants: int,
    alternative: str,
    variance_reduction: float,
) -> dict[str, Any]:
    """MDE at n units per variant, or the power against ``mde`` when it is given."""
    from shipit.stats.power import comparison_alpha
    from shipit.stats.power_at_n import achieved_power, detectable_effect

    settings: dict[str, Any] = {
        "baseline": baseline,
        "sd": sd,
        "alpha": alpha,
        "variants": variants,
        "alternative": alternative,
        "variance_reduction": variance_reduction,
    }
    if mde is None:
        mde_abs = float(detectable_effect(kind, n, power=power, **settings))
        achieved = power
    else:
        achieved = float(achieved_power(kind, n, mde, relative=relative, **settings))
        mde_abs = abs(mde) * abs(baseline) if relative and baseline else abs(mde)
    if not math.isfinite(mde_abs):
        raise InputError(f"no effect reaches power {power} with {n:g} units per variant")
    units: int | float = int(n) if float(n).is_integer() else n
    mde_rel = mde_abs / abs(baseline) if baseline else None
    return {
        "kind": kind,
        "solve": "mde" if mde is None else "power",
        "per_variant": units,
        "total": units * variants,
        "variants": variants,
        "alpha": alpha,
        "alpha_per_comparison": comparison_alpha(alpha, variants),
        "alternative": alternative,
        "power": achieved,
        "mde_absolute": mde_abs,
        "mde_relative": mde_rel,
        "variance_reduction": variance_reduction,
    }


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("power")
    def power(
        kind: Annotated[str, typer.Option("--kind", help="proportion, mean or ratio")],
        mde: Annotated[
            float | None, typer.Option("--mde", help="minimum detectable effect")
        ] = None,
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
        n: Annotated[
            float | None,
            typer.Option("--n", help="units per variant: prints the MDE, or the power with --mde"),
        ] = None,
    ) -> None:
        """Sample size per variant and in total (and days, given daily traffic).

        With --n: the minimum detectable effect at n units per variant, or with --n and
        --mde the power achieved.
        """
        from shipit.report.terminal import render_power_at_n, render_power_plan
        from shipit.stats.power import plan_sample_size

        if n is not None:
            try:
                result = at_n(
                    kind,
                    n,
                    mde,
                    baseline=baseline,
                    sd=sd,
                    relative=relative,
                    alpha=alpha,
                    power=target_power,
                    variants=variants,
                    alternative=alternative,
                    variance_reduction=variance_reduction,
                )
            except ShipitError as exc:
                raise fail(exc) from exc
            if output_format is OutputFormat.json:
                typer.echo(json.dumps(result, indent=2, allow_nan=False))
            else:
                Console().print(render_power_at_n(result))
            return
        if mde is None:
            raise fail(InputError("--mde is needed (or --n to get the MDE at n units)"))
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
