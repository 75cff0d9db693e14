"""Who a running experiment may not overlap: namespace ranges with overlapping targeting."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from shipit.errors import ConflictError
from shipit.registry.lifecycle import Status
from shipit.registry.tables import experiments
from shipit.spec.experiment import Experiment
from shipit.spec.targeting import may_overlap

__all__ = ["check_conflicts", "namespace_lock_key"]


def namespace_lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key of a namespace (a signed 64-bit number)."""
    digest = hashlib.sha256(f"shipit-namespace:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def check_conflicts(conn: sa.Connection, experiment: Experiment) -> None:
    """Refuse overlap with a running experiment in the same namespace range and targeting.

    On PostgreSQL the namespace is locked until the caller's transaction ends, so two
    overlapping experiments started at the same moment cannot both pass the check.
    """
    ns = experiment.namespace
    if ns is None:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": namespace_lock_key(ns.name)}
        )
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
