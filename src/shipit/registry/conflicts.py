"""What a running experiment may not change silently, and who it may not overlap."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shipit.errors import ConflictError
from shipit.registry.lifecycle import Status
from shipit.registry.tables import experiments
from shipit.spec.experiment import Experiment
from shipit.spec.targeting import may_overlap

__all__ = ["check_conflicts", "randomization"]


def randomization(exp: Experiment) -> dict[str, Any]:
    """The fields that decide who gets which variant (beyond traffic)."""
    return {
        "unit": exp.unit,
        "salt": exp.hash_salt,
        "hash_version": exp.hash_version,
        "weights": dict(zip(exp.variant_keys, exp.weights, strict=True)),
        "namespace": None if exp.namespace is None else exp.namespace.model_dump(),
        "holdout": None if exp.holdout is None else exp.holdout.model_dump(),
    }


def check_conflicts(conn: sa.Connection, experiment: Experiment) -> None:
    """Refuse overlap with a running experiment in the same namespace range and targeting."""
    ns = experiment.namespace
    if ns is None:
        return
    running = conn.execute(
        sa.select(experiments.c.key, experiments.c.spec).where(
            experiments.c.status == Status.RUNNING.value,
            experiments.c.key != experiment.key,
        )
    )
    clashes = []
    for key, spec in running:
        other = Experiment.model_validate(spec)
        if (
            other.namespace is not None
            and ns.overlaps(other.namespace)
            and may_overlap(experiment.targeting, other.targeting)
        ):
            clashes.append(f"{key} {list(other.namespace.range)}")
    if clashes:
        raise ConflictError(
            f"experiment {experiment.key!r} {list(ns.range)} overlaps running experiments "
            f"in namespace {ns.name!r} with overlapping targeting: {', '.join(sorted(clashes))}"
        )
