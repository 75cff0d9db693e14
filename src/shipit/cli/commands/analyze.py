"""``shipit analyze EXPERIMENT``: the whole analysis of one experiment, in the format asked."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from shipit.cli.commands._registry import DatabaseUrl, registry
from shipit.errors import NotFoundError

if TYPE_CHECKING:
    from shipit.result.model import Analysis
    from shipit.store.engine import Engine

SPEC_SUFFIXES = (".yaml", ".yml", ".json")


class Format(StrEnum):
    """Output formats of an analysis."""

    table = "table"
    json = "json"
    html = "html"
    md = "md"


def open_store(store: str | None) -> Engine:
    """The store the option names; a local DuckDB file must already exist."""
    from shipit.store.engine import DEFAULT_STORE, connect

    target = str(store) if store is not None else str(DEFAULT_STORE)
    local = "://" not in target or target.startswith("duckdb://")
    path = target.removeprefix("duckdb://")
    if local and path != ":memory:" and not Path(path).is_file():
        raise NotFoundError(
            f"no store at {path}: load data with `shipit load` or point --store at one"
        )
    return connect(store)


def run_analysis(experiment: str, store: str | None, database_url: str | None) -> Analysis:
    """Analyse a spec file, or else a registered experiment over its current phase."""
    from shipit.analysis import analyze, analyze_registered
    from shipit.spec.io import load_experiment

    is_file = Path(experiment).suffix.lower() in SPEC_SUFFIXES or Path(experiment).is_file()
    if is_file and not Path(experiment).is_file():
        raise NotFoundError(f"no experiment spec file {experiment}")
    engine = open_store(store)
    try:
        if is_file:
            return analyze(load_experiment(experiment), engine)
        repo = registry(database_url)
        try:
            return analyze_registered(experiment, engine, repo)
        finally:
            repo.close()
    finally:
        engine.close()


def rendered(analysis: Analysis, fmt: Format) -> str:
    """The analysis as text in one of the formats."""
    from shipit.report import render_html, render_markdown, to_json, to_text

    if fmt is Format.json:
        return to_json(analysis)
    if fmt is Format.html:
        return render_html(analysis)
    if fmt is Format.md:
        return render_markdown(analysis)
    return to_text(analysis)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("analyze")
    def analyze_command(
        experiment: Annotated[
            str, typer.Argument(help="An experiment spec file, or a registered experiment key.")
        ],
        store: Annotated[
            str | None,
            typer.Option("--store", help="Store path or URL (default .shipit/store.duckdb)."),
        ] = None,
        fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
        out: Annotated[
            Path | None, typer.Option("--out", help="Write the output to this file.")
        ] = None,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Analyse an experiment: trust checks, effects, guardrails and the verdict."""
        from shipit.report import render_terminal

        analysis = run_analysis(experiment, store, database_url)
        if out is not None:
            out.write_text(rendered(analysis, fmt), encoding="utf-8")
            Console(stderr=True).print(f"wrote {out}")
        elif fmt is Format.table:
            render_terminal(analysis)
        else:
            typer.echo(rendered(analysis, fmt))
