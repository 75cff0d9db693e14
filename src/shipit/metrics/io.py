"""What the store holds for an experiment: its latest phase and the variants it saw.

Metric definitions are read by ``shipit.spec.load_metrics``, the one YAML loader of specs
and metrics files (with line numbers in its errors).
"""

from __future__ import annotations

from shipit.errors import NotFoundError
from shipit.store.engine import Engine, quote

__all__ = ["latest_phase", "list_variants"]


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def latest_phase(engine: Engine, experiment: str) -> int | None:
    """The highest phase stored for an experiment (NotFoundError when it has no exposures)."""
    cols = engine.columns("exposures")
    if cols is None:
        raise NotFoundError("the store has no exposures: load some with `shipit load exposures`")
    table = engine.query(
        f"SELECT COUNT(*) AS n, MAX({quote('phase', engine.dialect)}) AS phase FROM exposures "
        f"WHERE {quote('experiment', engine.dialect)} = {_lit(experiment)}"
    ).to_pylist()[0]
    if not table["n"]:
        raise NotFoundError(f"no exposures for experiment {experiment!r} in the store")
    return None if table["phase"] is None else int(table["phase"])


def list_variants(engine: Engine, experiment: str, phase: int | None) -> list[str]:
    """Variants seen in an experiment's exposures, by name."""
    where = f"{quote('experiment', engine.dialect)} = {_lit(experiment)}"
    if phase is not None:
        where += f" AND {quote('phase', engine.dialect)} = {int(phase)}"
    rows = engine.query(
        f"SELECT DISTINCT {quote('variant', engine.dialect)} AS v FROM exposures WHERE {where}"
    ).to_pylist()
    return sorted(str(r["v"]) for r in rows)
