"""``shipit demo``: a built-in scenario registered, stored, analysed and reported end to end."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console


class ScenarioName(StrEnum):
    """The built-in scenarios."""

    recommender = "recommender"
    ecommerce = "ecommerce"
    three_models = "three-models"


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("demo")
    def demo_command(
        scenario: Annotated[
            ScenarioName, typer.Option("--scenario", help="Which built-in scenario to run.")
        ] = ScenarioName.recommender,
        users: Annotated[
            int, typer.Option("--users", envvar="SHIPIT_DEMO_USERS", help="Units to simulate.")
        ] = 100_000,
        out: Annotated[
            Path, typer.Option("--out", help="Folder for the registry, store and reports.")
        ] = Path("shipit-demo"),
        seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation.")] = 0,
        movielens: Annotated[
            Path | None,
            typer.Option(
                "--movielens", help="MovieLens folder (ratings.csv, movies.csv), recommender only."
            ),
        ] = None,
    ) -> None:
        """Simulate an experiment with a known truth, analyse it and write its report."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        from shipit.cli.demo_run import run_demo
        from shipit.report import render_terminal, to_json, write_html

        err = Console(stderr=True)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task(f"simulating and storing {scenario.value}", total=users)
            result = run_demo(
                scenario.value,
                users,
                out,
                seed=seed,
                movielens=movielens,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                stage=lambda step: bar.update(task, description=step),
            )
        render_terminal(result.analysis)
        html = write_html(result.analysis, out / "report.html")
        json_file = out / "analysis.json"
        json_file.write_text(to_json(result.analysis), encoding="utf-8")
        err.print(result.design)
        err.print(f"report: {html}\nJSON: {json_file}\nstore: {result.store}")
        err.print(
            f"registry: {result.registry} (the analysis is saved there: "
            f"shipit serve --database-url sqlite:///{result.registry} --store {result.store})"
        )
