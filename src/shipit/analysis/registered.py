"""Analysis of an experiment stored in the registry, restricted to its current phase."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipit.analysis.pipeline import analyze
from shipit.result.model import Analysis
from shipit.store.engine import Engine

__all__ = ["analyze_registered"]


def analyze_registered(
    key: str,
    engine: Engine,
    registry: Any,
    *,
    true_effects: Mapping[str, float] | None = None,
    **options: Any,
) -> Analysis:
    """Analyse registered experiment ``key`` over its current phase (exposures before the
    phase's start are dropped and counted). ``registry`` is an open registry repository."""
    record = registry.get(key)
    phase = record.phase
    return analyze(
        record.experiment,
        engine,
        phase=phase.number if phase is not None else None,
        phase_start=phase.started_at if phase is not None else None,
        true_effects=true_effects,
        **options,
    )
