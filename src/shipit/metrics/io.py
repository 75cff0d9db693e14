"""Reading metric definitions from a YAML file and listing what the store holds."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from shipit.errors import NotFoundError, SpecError
from shipit.spec.metric import MetricDef
from shipit.store.engine import Engine
from shipit.store.sql import identifier, literal

__all__ = ["latest_phase", "list_variants", "read_metric_defs"]


def read_metric_defs(path: str | Path) -> list[MetricDef]:
    """Metric definitions from YAML: a list, or a mapping with a ``metrics`` list."""
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"no such metrics file: {p}")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise SpecError(f"{p}: not valid YAML: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("metrics")
    if not isinstance(data, list) or not data:
        raise SpecError(f"{p}: expected a list of metrics (or a 'metrics:' list)")
    out: list[MetricDef] = []
    for i, item in enumerate(data):
        try:
            out.append(MetricDef.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "metric"
            raise SpecError(f"{p}: metrics[{i}].{where}: {first['msg']}") from exc
    return out


def latest_phase(engine: Engine, experiment: str) -> int | None:
    """The highest phase stored for an experiment (NotFoundError when it has no exposures)."""
    cols = engine.columns("exposures")
    if cols is None:
        raise NotFoundError("the store has no exposures: load some with `shipit load exposures`")
    d = engine.dialect
    table = engine.query(
        f"SELECT COUNT(*) AS n, MAX({identifier('phase', d)}) AS phase FROM exposures "
        f"WHERE {identifier('experiment', d)} = {literal(experiment, d)}"
    ).to_pylist()[0]
    if not table["n"]:
        raise NotFoundError(f"no exposures for experiment {experiment!r} in the store")
    return None if table["phase"] is None else int(table["phase"])


def list_variants(engine: Engine, experiment: str, phase: int | None) -> list[str]:
    """Variants seen in an experiment's exposures, by name."""
    d = engine.dialect
    where = f"{identifier('experiment', d)} = {literal(experiment, d)}"
    if phase is not None:
        where += f" AND {identifier('phase', d)} = {int(phase)}"
    rows = engine.query(
        f"SELECT DISTINCT {identifier('variant', d)} AS v FROM exposures WHERE {where}"
    ).to_pylist()
    return sorted(str(r["v"]) for r in rows)
