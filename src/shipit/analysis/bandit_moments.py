"""The reward's moments per allocation period and variant, computed in the engine.

Each unit counts once, in the period of its first exposure and with the variant it was
first served (a later period may serve it another variant: it stays where it entered, so
its propensity is the weight its entry period gave that variant). A view over the
exposures keeps each unit's first exposure and tags it with its period; the reward
metric's moments are then read by period as a segment, in one engine round trip.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from shipit._types import FloatArray
from shipit.analysis.tables import mapped_tables
from shipit.errors import SpecError
from shipit.metrics.run import compute_moments
from shipit.metrics.summary import GroupKey
from shipit.spec.experiment import Experiment
from shipit.store.engine import Engine
from shipit.store.sql import identifier, literal

__all__ = ["PERIOD_COLUMN", "PeriodMoments", "period_moments"]

PERIOD_COLUMN = "bandit_period"


@dataclass(frozen=True)
class PeriodMoments:
    """Units ``n``, Σreward ``total`` and Σreward² ``total_sq`` of shape (T, K) for T
    periods and the K ``variants``, and the weights ``weights`` (T, K) each period served."""

    variants: tuple[str, ...]
    n: FloatArray
    total: FloatArray
    total_sq: FloatArray
    weights: FloatArray
    sql: str = ""

    def pooled(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(n, Σy, Σy²) per variant over all periods."""
        return self.n.sum(axis=0), self.total.sum(axis=0), self.total_sq.sum(axis=0)


def _ts(at: datetime) -> str:
    return f"TIMESTAMP {literal(at.strftime('%Y-%m-%d %H:%M:%S.%f'))}"


def _view_sql(
    view: str,
    source: str,
    experiment: str,
    phase: int | None,
    starts: Sequence[datetime],
    temporary: bool,
) -> str:
    """The first exposure of every unit, tagged with the period it falls in."""
    ts = identifier("timestamp")
    cases = " ".join(
        f"WHEN {ts} >= {_ts(s)} THEN {literal(f'{t:06d}')}"
        for t, s in reversed(list(enumerate(starts)))
    )
    where = [f"{identifier('experiment')} = {literal(experiment)}"]
    if phase is not None:
        where.append(f"{identifier('phase')} = {int(phase)}")
    cols = ", ".join(identifier(c) for c in ("experiment", "phase", "unit_id", "variant"))
    return (
        f"CREATE OR REPLACE {'TEMP ' if temporary else ''}VIEW {identifier(view)} AS "
        f"SELECT {cols}, {ts}, CASE {cases} ELSE {literal(f'{0:06d}')} END AS "
        f"{identifier(PERIOD_COLUMN)} FROM (SELECT {cols}, {ts}, ROW_NUMBER() OVER "
        f"(PARTITION BY {identifier('unit_id')} ORDER BY {ts}, {identifier('variant')}) AS "
        f"first_rank FROM {identifier(source)} WHERE {' AND '.join(where)}) AS e "
        "WHERE first_rank = 1"
    )


def period_moments(
    experiment: Experiment,
    engine: Engine,
    starts: Sequence[datetime],
    weights: Sequence[dict[str, float]],
    *,
    phase: int | None = None,
    phase_start: datetime | None = None,
) -> PeriodMoments:
    """The reward's moments of the units that entered in each period (``starts[t]`` to
    ``starts[t + 1]``), per variant; ``weights[t]`` are the weights period t served."""
    if experiment.bandit is None:
        raise SpecError(f"experiment {experiment.key!r} has no bandit block")
    if len(starts) != len(weights) or not starts:
        raise SpecError(f"{len(starts)} period starts for {len(weights)} weight sets")
    reward = experiment.metric(experiment.bandit.reward)
    variants = experiment.variant_keys
    tables = mapped_tables(experiment, engine)
    view = f"shipit_bandit_{uuid.uuid4().hex[:16]}"
    # On DuckDB a temporary view: it lives in this cursor's catalog, not in the database,
    # so a reader's snapshot never writes (other engines get a plain view, dropped after).
    source = tables.get("exposures", "exposures")
    temporary = engine.dialect == "duckdb"
    engine.execute(_view_sql(view, source, experiment.key, phase, starts, temporary))
    try:
        mm = compute_moments(
            engine,
            experiment.key,
            phase,
            variants,
            [reward],
            by=PERIOD_COLUMN,
            phase_start=phase_start,
            tables={**tables, "exposures": view},
        )
    finally:
        engine.execute(f"DROP VIEW IF EXISTS {identifier(view)}")
    moments = mm.moments(reward.name)
    col = moments.col(moments.names[0])
    shape = (len(starts), len(variants))
    n, s, ss = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    index = {g: i for i, g in enumerate(mm.groups)}
    for t in range(len(starts)):
        for k, v in enumerate(variants):
            i = index.get(GroupKey(v, f"{t:06d}"))
            if i is not None:
                m = moments.matrix[i]
                n[t, k], s[t, k], ss[t, k] = m[0, 0], m[0, col], m[col, col]
    w = np.array([[float(p.get(v, 0.0)) for v in variants] for p in weights])
    return PeriodMoments(tuple(variants), n, s, ss, w, sql=mm.sql)
