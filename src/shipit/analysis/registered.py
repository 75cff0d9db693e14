"""Analysis of an experiment stored in the registry, restricted to its current phase."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shipit.analysis.pipeline import analyze
from shipit.analysis.sequential import recorded_looks
from shipit.registry.analyses import AnalysisRepository
from shipit.registry.bandits import BanditPeriods
from shipit.result.model import Analysis
from shipit.spec.experiment import Experiment
from shipit.store.engine import Engine

__all__ = ["analyze_registered", "registered_inputs"]


def analyze_registered(
    key: str,
    engine: Engine,
    registry: Any,
    *,
    true_effects: Mapping[str, float] | None = None,
    **options: Any,
) -> Analysis:
    """Analyse registered experiment ``key`` over its current phase (exposures before the
    phase's start are dropped and counted). ``registry`` is an open registry repository.

    A group-sequential plan counts the analyses saved in the registry during the phase as
    the looks already taken."""
    experiment, args = registered_inputs(key, registry, true_effects=true_effects, **options)
    return analyze(experiment, engine, **args)


def registered_inputs(key: str, registry: Any, **options: Any) -> tuple[Experiment, dict[str, Any]]:
    """What ``analyze`` needs from the registry for ``key``: the spec and its arguments
    (phase, its start, the looks and bandit periods recorded). Plain values: they can be
    sent to a worker process that has no registry."""
    record = registry.get(key)
    phase = record.phase
    if "recorded_looks" not in options:
        since = phase.started_at if phase is not None else None
        options["recorded_looks"] = _saved_looks(record.experiment, registry, since)
    if record.experiment.type == "bandit" and phase is not None and hasattr(registry, "engine"):
        options.setdefault("bandit_periods", BanditPeriods(registry.engine).periods(registry, key))
    args = {
        "phase": phase.number if phase is not None else None,
        "phase_start": phase.started_at if phase is not None else None,
        **options,
    }
    return record.experiment, args


def _saved_looks(
    exp: Experiment, registry: Any, since: datetime | None
) -> dict[str, list[float]] | None:
    """Per variant, the information fractions of the runs saved since the phase started."""
    plan = exp.analysis
    db = getattr(registry, "engine", None)
    if plan.method != "sequential" or plan.sequential.kind != "gst" or db is None:
        return None
    saved = AnalysisRepository(db).history(exp.key, since=since)
    return recorded_looks((s.body for s in saved), exp.primary_metric)
