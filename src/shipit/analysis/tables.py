"""The spec's ``tables:`` block made real: views over the engine tables it names."""

from __future__ import annotations

import re

from shipit.errors import ShipitError
from shipit.spec.experiment import Experiment
from shipit.store.engine import Engine, map_table
from shipit.store.tables import TableName

__all__ = ["mapped_tables", "view_name"]


def view_name(experiment: str, table: str) -> str:
    """The view an experiment's mapped ``table`` is read through (short, plain characters:
    PostgreSQL cuts names at 63 bytes)."""
    return f"shipit_{re.sub(r'[^A-Za-z0-9]', '_', experiment)[:40]}_{table}"


def mapped_tables(experiment: Experiment, engine: Engine) -> dict[str, str]:
    """Create a view per table the spec maps and return store table -> view (empty when
    the spec maps none: the store's own tables are read)."""
    out: dict[str, str] = {}
    name: TableName
    for name, m in experiment.tables.given().items():  # type: ignore[assignment]
        try:
            out[name] = map_table(
                engine,
                name,
                m.table,
                m.columns,
                constants=m.constants,
                view=view_name(experiment.key, name),
            )
        except ShipitError as exc:
            raise type(exc)(f"tables.{name}: {exc}") from exc
    return out
