"""``shipit metrics EXPERIMENT``: moments per metric and variant, computed in the engine."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shipit.errors import InputError, SpecError

if TYPE_CHECKING:
    from shipit.metrics.run import MetricMoments


class Format(StrEnum):
    """Output formats."""

    json = "json"
    table = "table"


def rows(result: MetricMoments) -> list[dict[str, Any]]:
    """One JSON-ready row per (metric, group): n, mean and the moment sums."""
    from shipit.stats.moments import Moments

    out: list[dict[str, Any]] = []
    for metric, m in result.metrics.items():
        if not isinstance(m, Moments):
            continue  # a kind's own summary: not moments
        first = m.names[0]
        for i, g in enumerate(result.groups):
            row: dict[str, Any] = {"metric": metric, "variant": g.variant}
            if g.segment is not None:
                row["segment"] = g.segment
            if g.day is not None:
                row["day"] = g.day
            n = float(m.n[i])
            row["n"] = int(n)
            if first == "num":
                den = float(m.sum("den")[i])
                row["mean"] = float(m.sum("num")[i]) / den if den else None
            else:
                row["mean"] = float(m.sum(first)[i]) / n if n else None
            row["sum"] = float(m.sum(first)[i])
            row["sum_sq"] = float(m.sum_product(first, first)[i])
            for name in m.names[1:]:
                row[f"{name}_sum"] = float(m.sum(name)[i])
                row[f"{name}_sum_sq"] = float(m.sum_product(name, name)[i])
                row[f"{first}_{name}_sum"] = float(m.sum_product(first, name)[i])
            out.append(row)
    return out


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("metrics")
    def metrics_command(
        experiment: Annotated[str, typer.Argument(help="Experiment key in the store.")],
        metrics_file: Annotated[
            Path, typer.Option("--metrics", help="YAML file with a list of metric definitions.")
        ],
        store: Annotated[
            str | None,
            typer.Option("--store", help="Store path or URL (default .shipit/store.duckdb)."),
        ] = None,
        by: Annotated[
            str | None,
            typer.Option("--by", help="'day' (cumulative) or a segment attribute name."),
        ] = None,
        output: Annotated[Format, typer.Option("--format", help="json or table.")] = Format.table,
        show_sql: Annotated[bool, typer.Option("--show-sql", help="Print the SQL.")] = False,
        phase: Annotated[
            int | None, typer.Option("--phase", help="Phase (default: the latest).")
        ] = None,
        variants: Annotated[
            str | None,
            typer.Option("--variants", help="Comma-separated variants, control first."),
        ] = None,
        phase_start: Annotated[
            datetime | None,
            typer.Option("--phase-start", help="Drop (and count) exposures before this time."),
        ] = None,
    ) -> None:
        """Print n, mean and moment sums per metric and variant (one engine query)."""
        from shipit.metrics.io import latest_phase, list_variants
        from shipit.metrics.run import compute_moments
        from shipit.spec.io import load_metrics
        from shipit.store.engine import connect

        defs = list(load_metrics(metrics_file))
        if not defs:
            raise SpecError(f"{metrics_file}: defines no metrics")
        engine = connect(store)
        try:
            if phase is None:
                phase = latest_phase(engine, experiment)
            keys = (
                [v.strip() for v in variants.split(",") if v.strip()]
                if variants
                else list_variants(engine, experiment, phase)
            )
            if not keys:
                raise InputError(f"no variants for experiment {experiment!r} phase {phase}")
            from shipit.analysis.guard import check_inputs, guarded

            segments = [by] if by not in (None, "day") else []
            check_inputs(experiment, keys, defs, engine, phase=phase, segments=segments)
            args = (engine, experiment, phase, keys, defs)
            result = guarded(compute_moments, defs)(*args, by=by, phase_start=phase_start)
            if show_sql and output is Format.table:
                typer.echo(result.sql)  # what ran (sliced by day at scale), not a re-plan
        finally:
            engine.close()
        if output is Format.json:
            doc: dict[str, Any] = {
                "metrics": rows(result),
                "multi_variant_units": result.multi_variant_units,
                "pre_phase_exposures": result.pre_phase_exposures,
            }
            if show_sql:
                doc["sql"] = result.sql
            typer.echo(json.dumps(doc, indent=2))
            return
        _table(result)


def _table(result: MetricMoments) -> None:
    console = Console()
    data = rows(result)
    table = Table(title="metric moments")
    extra = [k for k in ("segment", "day") if data and k in data[0]]
    for col in ["metric", "variant", *extra, "n", "mean", "sum", "sum_sq"]:
        table.add_column(col, justify="right" if col in ("n", "mean", "sum", "sum_sq") else "left")
    for r in data:
        mean = "-" if r["mean"] is None else f"{r['mean']:.6g}"
        table.add_row(
            r["metric"],
            r["variant"],
            *(str(r[k]) for k in extra),
            str(r["n"]),
            mean,
            f"{r['sum']:.6g}",
            f"{r['sum_sq']:.6g}",
        )
    console.print(table)
    console.print(
        f"units exposed to several variants (excluded): {result.multi_variant_units}; "
        f"exposures before the phase start (dropped): {result.pre_phase_exposures}"
    )
