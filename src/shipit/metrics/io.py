"""What the store holds for an experiment: its latest phase and the variants it saw.

Metric definitions are read by ``shipit.spec.load_metrics``, the one YAML loader of specs
and metrics files (with line numbers in its errors).
"""

from __future__ import annotations

from shipit.errors import NotFoundError
from shipit.store.engine import Engine
from shipit.store.sql import identifier, literal

__all__ = ["latest_phase", "list_variants"]


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
