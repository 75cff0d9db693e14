"""``shipit simulate bandit`` and ``shipit simulate interleaving``: adaptive designs, simulated."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from shipit.errors import InputError

if TYPE_CHECKING:
    from shipit.sim.bandit import BanditSimulation


class PolicyName(StrEnum):
    """Policies offered on the command line."""

    thompson = "thompson"
    ucb = "ucb"
    egreedy = "egreedy"
    fixed = "fixed"
    top_two = "top_two"
    gaussian_thompson = "gaussian_thompson"


class OutputFormat(StrEnum):
    """How results are printed."""

    text = "text"
    json = "json"


def _parse_arms(text: str) -> list[float]:
    try:
        rates = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(
            f"--arms must be comma-separated rates like 0.10,0.15; got {text!r}"
        ) from None
    if len(rates) < 2 or any(not 0.0 <= r <= 1.0 for r in rates):
        raise InputError(f"--arms needs at least two conversion rates in [0, 1]; got {text!r}")
    return rates


def _curve(sim: BanditSimulation, points: int = 10) -> list[dict[str, float]]:
    import numpy as np

    idx = np.unique(np.linspace(0, sim.units.size - 1, points).round().astype(int))
    return [{"units": float(sim.units[i]), "regret": float(sim.regret[i])} for i in idx]


def register(simulate_app: typer.Typer) -> None:
    """Add ``bandit`` and ``interleaving`` to the ``simulate`` sub-app."""

    @simulate_app.command("bandit")
    def bandit(
        arms: Annotated[str, typer.Option(help="true conversion rate per arm, e.g. 0.10,0.15")] = (
            "0.10,0.15"
        ),
        policy: Annotated[PolicyName, typer.Option(help="adaptive policy to compare")] = (
            PolicyName.thompson
        ),
        units: Annotated[int, typer.Option(min=1, help="units (users) per simulated run")] = 10_000,
        runs: Annotated[int, typer.Option(min=1, help="seeded runs to average over")] = 1_000,
        batch: Annotated[int, typer.Option(min=1, help="units per allocation period")] = 100,
        min_share: Annotated[float, typer.Option(help="floor on each arm's weight")] = 0.0,
        burn_in: Annotated[int, typer.Option(min=0, help="units per arm split equally first")] = 0,
        seed: Annotated[int, typer.Option(help="random seed")] = 0,
        fmt: Annotated[OutputFormat, typer.Option("--format", help="text or json")] = (
            OutputFormat.text
        ),
    ) -> None:
        """Cumulative regret and allocation of a bandit policy beside a fixed equal split."""
        import numpy as np

        from shipit.sim.bandit import simulate_bandit

        rates = _parse_arms(arms)
        names = [policy.value] if policy is PolicyName.fixed else [policy.value, "fixed"]
        sims = [
            simulate_bandit(
                rates,
                policy=name,
                units=units,
                runs=runs,
                batch=batch,
                min_share=min_share,
                burn_in=burn_in,
                seed=seed,
            )
            for name in names
        ]
        fixed = sims[-1]
        rows = []
        for sim in sims:
            row = sim.to_dict()
            row["regret_curve"] = _curve(sim)
            with np.errstate(invalid="ignore", divide="ignore"):
                row["regret_vs_fixed"] = float(sim.regret[-1] / fixed.regret[-1])
            rows.append(row)
        if fmt is OutputFormat.json:
            doc = {"arms": rates, "units": units, "runs": runs, "batch": batch, "policies": rows}
            typer.echo(json.dumps(doc, indent=2))
            return
        table = Table(
            title=f"Bandit simulation: arms {rates}, {units:,} units, {runs:,} runs",
            caption="arm columns: mean share of units served; regret in lost conversions",
        )
        table.add_column("policy")
        table.add_column("regret ± sd", justify="right")
        table.add_column("vs fixed", justify="right")
        for rate in rates:
            table.add_column(f"arm {rate:g}", justify="right")
        table.add_column("found best", justify="right")
        for row, sim in zip(rows, sims, strict=True):
            table.add_row(
                sim.policy,
                f"{sim.regret[-1]:.1f} ± {sim.regret_sd[-1]:.1f}",
                f"{row['regret_vs_fixed']:.2f}",
                *(f"{s:.1%}" for s in sim.share),
                f"{sim.found_best:.1%}",
            )
        Console().print(table)

    @simulate_app.command("interleaving")
    def interleaving(
        ctr_a: Annotated[float, typer.Option(help="click-through rate of ranker A")] = 0.20,
        ctr_b: Annotated[float, typer.Option(help="click-through rate of ranker B")] = 0.25,
        sessions: Annotated[int, typer.Option(min=2, help="sessions (traffic) per test")] = 1_000,
        runs: Annotated[int, typer.Option(min=1, help="seeded runs to average over")] = 1_000,
        length: Annotated[int, typer.Option(min=3, help="results shown per session")] = 5,
        alpha: Annotated[float, typer.Option(help="significance level")] = 0.05,
        seed: Annotated[int, typer.Option(help="random seed")] = 0,
        fmt: Annotated[OutputFormat, typer.Option("--format", help="text or json")] = (
            OutputFormat.text
        ),
    ) -> None:
        """Power of team-draft interleaving against an A/B test of the same rankers."""
        from shipit.sim.interleaving import simulate_interleaving, textbook_pair

        result = simulate_interleaving(
            textbook_pair(ctr_a, ctr_b, length),
            sessions=sessions,
            runs=runs,
            alpha=alpha,
            seed=seed,
        )
        if fmt is OutputFormat.json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
            return
        table = Table(
            title=f"Interleaving vs A/B: CTR {ctr_a:g} vs {ctr_b:g}, {sessions:,} sessions, "
            f"{runs:,} runs, alpha {alpha:g}"
        )
        table.add_column("design")
        table.add_column("power", justify="right")
        table.add_column("notes")
        table.add_row(
            "team-draft interleaving",
            f"{result.power_interleaving:.1%}",
            f"B preferred in {result.mean_share_b:.1%} of decisive sessions; "
            f"A picked first {result.first_pick_a:.1%}",
        )
        table.add_row("A/B test (50/50)", f"{result.power_ab:.1%}", "two-proportion z-test")
        Console().print(table)
