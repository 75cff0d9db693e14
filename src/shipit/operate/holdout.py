"""Long-term holdout analysis: after a ship, the experiment's holdout against everyone else.

The holdout is a pure function of the unit id (its hash with the holdout's salt below the
holdout's fraction), so every unit active since the ship (with an event at or after
``since``) is either held out or exposed to what shipped. The two groups are written to the
store as the exposures of a derived experiment ``<key>.holdout`` (variants ``holdout``, the
control, and ``exposed``; all first exposed at ``since``, so windows count from the ship) and
analysed by the same core as any experiment, with the parent's metrics: the relative effect
of ``exposed`` is the effect that lasts. The SRM check tests the split against the holdout
fraction, which also checks that the holdout was honoured. Writing is idempotent (an exact
duplicate exposure is stored once).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from shipit.analysis.pipeline import analyze
from shipit.assign.hashing import hash_batch
from shipit.errors import DataError, SpecError
from shipit.result.model import Analysis
from shipit.spec.experiment import Experiment, Variant
from shipit.store.engine import Engine
from shipit.store.loaders import load
from shipit.store.sql import identifier, literal

__all__ = ["EXPOSED", "HOLDOUT", "analyze_holdout", "holdout_experiment", "ship_time"]

HOLDOUT = "holdout"
EXPOSED = "exposed"


def ship_time(registry: Any, key: str) -> datetime:
    """When ``key`` was decided (its last ``decide`` audit entry); SpecError if never."""
    decided: list[datetime] = [e.at for e in registry.audit(key) if e.action == "decide"]
    if not decided:
        raise SpecError(
            f"experiment {key!r} has no decision yet: give the date the change shipped (since)"
        )
    return decided[-1]


def holdout_experiment(experiment: Experiment) -> Experiment:
    """The derived experiment: holdout (control) against exposed, the parent's metrics."""
    holdout = experiment.holdout
    if holdout is None:
        raise SpecError(f"experiment {experiment.key!r} has no holdout to compare with")
    plan = experiment.analysis
    updates: dict[str, Any] = {"segments": ()}
    if plan.method == "sequential":  # one long-term read, not a sequence of looks
        updates["method"] = "frequentist"
    return Experiment(
        key=f"{experiment.key}.{HOLDOUT}",
        name=f"{experiment.name or experiment.key}: long-term holdout",
        unit=experiment.unit,
        variants=(
            Variant(key=HOLDOUT, weight=holdout.fraction),
            Variant(key=EXPOSED, weight=1.0 - holdout.fraction),
        ),
        control=HOLDOUT,
        metrics=tuple(experiment.metric_defs().values()),
        primary_metric=experiment.primary_metric,
        secondary_metrics=experiment.secondary_metrics,
        guardrails=experiment.guardrails,
        analysis=plan.model_copy(update=updates),
    )


def _active_units(engine: Engine, since: datetime) -> list[str]:
    at = since.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    sql = (
        f"SELECT DISTINCT CAST({identifier('unit_id')} AS VARCHAR) AS unit_id "
        f"FROM {identifier('events')} "
        f"WHERE {identifier('timestamp')} >= TIMESTAMP {literal(at)} ORDER BY 1"
    )
    return [str(u) for u in engine.query(sql).column("unit_id").to_pylist()]


def analyze_holdout(
    experiment: Experiment, engine: Engine, since: datetime, *, write: bool = True
) -> Analysis:
    """The long-term holdout analysis of ``experiment`` from ``since`` (the ship) on."""
    derived = holdout_experiment(experiment)
    assert experiment.holdout is not None
    units = _active_units(engine, since)
    if not units:
        raise DataError(f"{experiment.key}: no unit has events since {since.isoformat()}")
    held = hash_batch(experiment.hash_version, experiment.holdout.hash_salt, units)
    variant = np.where(held < experiment.holdout.fraction, HOLDOUT, EXPOSED)
    if write:
        at = since.astimezone(UTC).replace(tzinfo=None)
        table = pa.table(
            {
                "experiment": pa.array([derived.key] * len(units), pa.string()),
                "phase": pa.array([1] * len(units), pa.int32()),
                "unit_id": pa.array(units, pa.string()),
                "variant": pa.array(variant.tolist(), pa.string()),
                "timestamp": pa.array([at] * len(units), pa.timestamp("us")),
            }
        )
        load(engine, "exposures", table)
    return analyze(derived, engine, phase=1, daily=False)
