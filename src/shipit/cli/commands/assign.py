"""``shipit assign EXPERIMENT --units FILE``: print each unit's variant (or why it has none)."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipit.cli.commands._registry import DatabaseUrl, registry
from shipit.errors import InputError

if TYPE_CHECKING:
    from shipit.spec import Experiment


class Format(StrEnum):
    """Output formats."""

    CSV = "csv"
    JSONL = "jsonl"


def _experiment(ref: str, database_url: str | None) -> Experiment:
    from shipit.spec import load_experiment

    path = Path(ref)
    if path.suffix in {".yaml", ".yml"} or path.is_file():
        return load_experiment(path)
    from shipit.assign.bandit import allocated
    from shipit.registry.bandits import BanditPeriods

    repo = registry(database_url)
    record = repo.get(ref)  # a bandit serves its current allocation period's weights
    return allocated(record.experiment, BanditPeriods(repo.engine).current(record))


def _read_units(path: Path, unit: str) -> list[str]:
    """Unit ids: a CSV with a header (column ``unit`` or the experiment's unit), or one per line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read units: {exc}") from exc
    if path.suffix == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        if not rows:
            return []
        column = next((c for c in (unit, "unit") if c in rows[0]), next(iter(rows[0])))
        return [r[column] for r in rows]
    return [line.strip() for line in text.splitlines() if line.strip()]


def _read_attributes(path: Path, unit: str) -> dict[str, dict[str, Any]]:
    """Attributes per unit id from CSV or JSONL, keyed by column ``unit`` or the unit name;
    an empty CSV cell is a missing attribute."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read attributes: {exc}") from exc
    if path.suffix == ".jsonl":
        rows = []
        for i, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{i}: invalid JSON: {exc.msg}") from exc
    else:
        # CSV has no null: an empty cell means the attribute is missing, as a JSON null does.
        rows = [
            {k: (None if v == "" else v) for k, v in row.items()}
            for row in csv.DictReader(text.splitlines())
        ]
    out: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(rows, 1):
        column = unit if unit in row else "unit"
        if column not in row:
            raise InputError(f"{path}: row {i} has no {unit!r} (or 'unit') column")
        out[str(row[column])] = {k: v for k, v in row.items() if k != column}
    return out


def register(app: typer.Typer) -> None:
    """Add the command to the app."""

    @app.command("assign")
    def assign(
        experiment: Annotated[str, typer.Argument(help="Spec file or registered key.")],
        units: Annotated[Path, typer.Option("--units", help="Unit ids: .csv or one per line.")],
        attributes: Annotated[
            Path | None, typer.Option("--attributes", help="Unit attributes: .csv or .jsonl.")
        ] = None,
        output: Annotated[Format, typer.Option("--format", help="csv or jsonl.")] = Format.CSV,
        database_url: DatabaseUrl = None,
    ) -> None:
        """Print unit,variant,reason for each unit (variant empty when not enrolled)."""
        from shipit.assign import Assigner, Reason

        exp = _experiment(experiment, database_url)
        ids = _read_units(units, exp.unit)
        columns: dict[str, list[Any]] | None = None
        if attributes is not None:
            by_unit = _read_attributes(attributes, exp.unit)
            names = sorted({k for attrs in by_unit.values() for k in attrs})
            columns = {n: [by_unit.get(u, {}).get(n) for u in ids] for n in names}
        batch = Assigner(exp).assign_batch(ids, columns)
        variants, reasons = batch.variant_array().tolist(), batch.reasons()
        if output is Format.JSONL:
            for u, v, r in zip(ids, variants, reasons, strict=True):
                sys.stdout.write(json.dumps({"unit": u, "variant": v, "reason": r.value}) + "\n")
            return
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["unit", "variant", "reason"])
        for u, v, r in zip(ids, variants, reasons, strict=True):
            writer.writerow([u, v or "", "" if r is Reason.ASSIGNED else r.value])
