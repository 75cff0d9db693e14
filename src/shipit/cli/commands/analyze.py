"""``shipit analyze EXPERIMENT``: the whole analysis of one experiment, in the format asked.

EXPERIMENT is a spec file or a registered key; or a per-unit table (a ``.csv``/``.parquet``
file, or ``engine:TABLE`` in ``--store``) analysed ad hoc with ``--variant-column`` and
``--metric``/``--ratio`` columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    terminal = "terminal"
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


def run_analysis(
    experiment: str,
    store: str | None,
    database_url: str | None,
    *,
    srm_threshold: float | None = None,
) -> Analysis:
    """Analyse a spec file, or else a registered experiment over its current phase."""
    from shipit.analysis import analyze, analyze_registered
    from shipit.spec.io import load_experiment

    is_file = Path(experiment).suffix.lower() in SPEC_SUFFIXES or Path(experiment).is_file()
    if is_file and not Path(experiment).is_file():
        raise NotFoundError(f"no experiment spec file {experiment}")
    if is_file:
        spec = load_experiment(experiment)
        if spec.source is not None and store is None:
            from shipit.store.engine import connect

            engine = connect(":memory:")  # a file source needs no store
        else:
            engine = open_store(store)
    else:
        engine = open_store(store)
    try:
        if is_file:
            return analyze(spec, engine, srm_threshold=srm_threshold)
        repo = registry(database_url)
        try:
            return analyze_registered(experiment, engine, repo, srm_threshold=srm_threshold)
        finally:
            repo.close()
    finally:
        engine.close()


@dataclass(frozen=True)
class TableOptions:
    """The columns of an ad hoc per-unit table analysis, as the flags name them."""

    variant: str | None
    unit: str | None
    control: str | None
    metrics: Sequence[str]
    ratios: Sequence[str]
    covariates: Sequence[str]
    segments: Sequence[str]

    @property
    def used(self) -> bool:
        """Whether any table flag was given."""
        return any(
            (self.variant, self.unit, self.control, self.metrics, self.ratios, self.covariates)
        ) or bool(self.segments)


def table_key(table: str) -> str:
    """The analysis's experiment key for a table: the file's stem or the table's name."""
    import re

    name = table.split(":", 1)[1] if table.startswith("engine:") else Path(table).stem
    key = re.sub(r"[^A-Za-z0-9_.\-]", "_", name).lstrip("_.-")
    return key or "table"


def run_table_analysis(
    table: str, store: str | None, options: TableOptions, srm_threshold: float | None
) -> Analysis:
    """Analyse a per-unit table (a data file, or ``engine:TABLE`` of the store)."""
    from shipit.analysis.table import analyze_table
    from shipit.errors import InputError
    from shipit.store.frames import ENGINE_PREFIX, file_table, store_table

    if options.variant is None:
        raise InputError(f"{table}: name the variant column with --variant-column COLUMN")
    if table.startswith(ENGINE_PREFIX):
        engine = open_store(store)
        try:
            ref = store_table(engine, table)
        except BaseException:
            engine.close()
            raise
    else:
        ref = file_table(table)
        engine = ref.engine
    try:
        return analyze_table(
            ref,
            variant=options.variant,
            metrics=options.metrics,
            ratios=options.ratios,
            covariates=options.covariates,
            segments=options.segments,
            control=options.control,
            unit=options.unit,
            srm_threshold=srm_threshold,
            key=table_key(table),
        )
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
    if fmt is Format.terminal:
        return to_text(analysis)
    return to_text(analysis)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("analyze")
    def analyze_command(
        experiment: Annotated[
            str,
            typer.Argument(
                help="An experiment spec file, a registered experiment key, or a per-unit "
                "table: a .csv/.parquet file or engine:TABLE (with --variant-column)."
            ),
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
        srm_threshold: Annotated[
            float | None,
            typer.Option(
                "--srm-threshold",
                help="Fail the sample-ratio check below this p-value (default: the plan's "
                "analysis.srm_threshold, 0.001).",
            ),
        ] = None,
        variant_column: Annotated[
            str | None,
            typer.Option("--variant-column", help="Per-unit table: the variant column."),
        ] = None,
        unit_column: Annotated[
            str | None,
            typer.Option("--unit-column", help="Per-unit table: the unit column (optional)."),
        ] = None,
        control: Annotated[
            str | None,
            typer.Option("--control", help="Per-unit table: the control variant."),
        ] = None,
        metric: Annotated[
            list[str] | None,
            typer.Option("--metric", help="Per-unit table: an outcome column (repeatable)."),
        ] = None,
        ratio: Annotated[
            list[str] | None,
            typer.Option("--ratio", help="Per-unit table: a ratio NUM/DEN of two columns."),
        ] = None,
        covariate: Annotated[
            list[str] | None,
            typer.Option("--covariate", help="Per-unit table: a CUPED covariate column."),
        ] = None,
        segment: Annotated[
            list[str] | None,
            typer.Option("--segment", help="Per-unit table: a segment column (repeatable)."),
        ] = None,
    ) -> None:
        """Analyse an experiment: trust checks, effects, guardrails and the verdict."""
        from shipit.errors import InputError
        from shipit.report import render_terminal
        from shipit.store.frames import is_table_path

        options = TableOptions(
            variant_column,
            unit_column,
            control,
            metric or (),
            ratio or (),
            covariate or (),
            segment or (),
        )
        if is_table_path(experiment):
            analysis = run_table_analysis(experiment, store, options, srm_threshold)
        elif options.used:
            raise InputError(
                f"{experiment}: --variant-column, --metric and the other table options take "
                "a per-unit table (.csv, .parquet or engine:TABLE)"
            )
        else:
            analysis = run_analysis(experiment, store, database_url, srm_threshold=srm_threshold)
        if out is not None:
            out.write_text(rendered(analysis, fmt), encoding="utf-8")
            Console(stderr=True).print(f"wrote {out}")
        elif fmt is Format.table:
            render_terminal(analysis)
        else:
            typer.echo(rendered(analysis, fmt))
