"""``shipit boundaries``: z boundaries and alpha spent at each look of a sequential design."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shipit.cli.commands.stats import OutputFormat, fail
from shipit.errors import InputError, ShipitError

if TYPE_CHECKING:
    from shipit.stats.gst import Boundaries


def parse_fractions(text: str | None, looks: int) -> list[float]:
    """``0.2,0.5,1`` as floats; equally spaced looks when not given."""
    if text is None:
        if looks < 1:
            raise InputError(f"--looks must be ≥ 1, got {looks}")
        return [k / looks for k in range(1, looks + 1)]
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--fractions must be numbers separated by commas, got {text!r}") from None


def boundaries_to_dict(
    b: Boundaries, *, spending: str, rho: float | None, beta: float
) -> dict[str, Any]:
    """The JSON of ``shipit boundaries``: settings, one entry per look, the inflation factor."""
    from shipit.stats.gst import inflation
    from shipit.stats.normal import normal_sf
    from shipit.stats.results import to_python

    nominal = normal_sf(b.efficacy) * b.sides
    looks = [
        {
            "look": k + 1,
            "fraction": to_python(b.fractions[k]),
            "z": to_python(b.efficacy[k]),
            "futility_z": to_python(b.futility[k]),
            "nominal_p": to_python(nominal[k]),
            "alpha_spent": to_python(b.alpha_spent[k]),
        }
        for k in range(b.fractions.size)
    ]
    return {
        "spending": spending,
        "alpha": b.alpha,
        "sides": b.sides,
        "rho": rho,
        "looks": looks,
        "beta": beta,
        "inflation": inflation(b, beta=beta),
    }


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("boundaries")
    def boundaries(
        spending: Annotated[str, typer.Option("--spending", help="obf, pocock or power")] = "obf",
        looks: Annotated[int, typer.Option("--looks", help="equally spaced looks")] = 4,
        alpha: Annotated[float, typer.Option("--alpha")] = 0.05,
        sides: Annotated[int, typer.Option("--sides", help="1 or 2")] = 2,
        fractions: Annotated[
            str | None, typer.Option("--fractions", help="information fractions, e.g. 0.2,0.5,1")
        ] = None,
        rho: Annotated[float, typer.Option("--rho", help="exponent of the power family")] = 2.0,
        classical: Annotated[
            bool, typer.Option("--classical", help="constant Pocock / O'Brien-Fleming design")
        ] = False,
        futility: Annotated[
            str | None, typer.Option("--futility", help="beta spending (one-sided designs)")
        ] = None,
        beta: Annotated[float, typer.Option("--beta", help="type II error for power")] = 0.2,
        output_format: Annotated[
            OutputFormat, typer.Option("--format", help="json or a rich table")
        ] = OutputFormat.table,
    ) -> None:
        """Lan-DeMets (or classical) boundaries and the alpha spent by each look."""
        from shipit.stats.gst import classical_bounds, spending_bounds

        try:
            t = parse_fractions(fractions, looks)
            if classical:
                b = classical_bounds(t, shape=spending, alpha=alpha, sides=sides)
            else:
                b = spending_bounds(
                    t,
                    alpha=alpha,
                    sides=sides,
                    spending=spending,
                    rho=rho,
                    futility=futility,
                    beta=beta,
                    futility_rho=rho,
                )
            data = boundaries_to_dict(
                b, spending=spending, rho=rho if spending == "power" else None, beta=beta
            )
        except ShipitError as exc:
            raise fail(exc) from exc
        if output_format is OutputFormat.json:
            typer.echo(json.dumps(data, indent=2, allow_nan=False))
            return
        table = Table(
            title=f"{'classical' if classical else 'Lan-DeMets'} {spending} boundaries, "
            f"alpha {alpha:g}, {sides}-sided",
            caption=f"maximum sample size × {data['inflation']:.4f} of a fixed design "
            f"(power {1 - beta:g})",
        )
        for col in ("look", "fraction", "z", "futility z", "nominal p", "alpha spent"):
            table.add_column(col, justify="right")
        for row in data["looks"]:
            fz = row["futility_z"]
            table.add_row(
                str(row["look"]),
                f"{row['fraction']:.4g}",
                f"{row['z']:.4f}" if row["z"] is not None else "—",
                "—" if fz is None else f"{fz:.4f}",
                f"{row['nominal_p']:.3g}",
                f"{row['alpha_spent']:.4g}",
            )
        Console().print(table)


__all__ = ["boundaries_to_dict", "parse_fractions", "register"]
