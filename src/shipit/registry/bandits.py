"""Allocation periods of bandit experiments: the weights each period served, and why.

Period 0 of a phase is implicit: the spec's weights from the phase's start. Every update
appends the next period (numbers are unique per experiment and phase, so two updaters
racing on one database cannot both record period n). The table is created by Alembic
migration 0005; this is its mirror.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from shipit.errors import ConflictError, StateError
from shipit.registry.engine import reading

__all__ = ["BanditPeriod", "BanditPeriods", "bandit_periods"]

metadata = sa.MetaData()

bandit_periods = sa.Table(
    "bandit_periods",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment_key", sa.String(200), nullable=False),
    sa.Column("phase", sa.Integer, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("weights", sa.JSON, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.UniqueConstraint("experiment_key", "phase", "number"),
)


@dataclass(frozen=True)
class BanditPeriod:
    """Weights in force from ``started_at`` until the next period's start.

    ``summary`` holds what the update saw (per-variant reward totals, P(best)).
    """

    number: int
    started_at: datetime
    weights: dict[str, float]
    reason: str
    summary: dict[str, Any] = field(default_factory=dict)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class BanditPeriods:
    """Read and append the allocation periods of one registry database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def periods(self, registry: Any, key: str) -> list[BanditPeriod]:
        """Every period of the experiment's current phase, oldest first (period 0 first)."""
        record = registry.get(key)
        if record.phase is None:
            raise StateError(f"experiment {key!r} has not started: it has no allocation periods")
        first = BanditPeriod(
            0,
            _aware(record.phase.started_at),
            dict(zip(record.experiment.variant_keys, record.experiment.weights, strict=True)),
            "start",
        )
        return [first, *self.recorded(key, record.phase.number)]

    def current(self, record: Any) -> dict[str, float] | None:
        """The weights a started bandit serves now: its last recorded period's (None: not a
        bandit, not started, or never updated, so the spec's weights serve)."""
        if record.experiment.type != "bandit" or record.phase is None:
            return None
        query = (
            sa.select(bandit_periods.c.weights)
            .where(
                bandit_periods.c.experiment_key == record.key,
                bandit_periods.c.phase == record.phase.number,
            )
            .order_by(bandit_periods.c.number.desc())
            .limit(1)
        )
        with reading(self.engine) as con:
            weights = con.scalar(query)
        return None if weights is None else {str(k): float(v) for k, v in weights.items()}

    def recorded(self, key: str, phase: int) -> list[BanditPeriod]:
        """The periods recorded by updates (period 1 onwards) of one phase."""
        query = (
            sa.select(bandit_periods)
            .where(bandit_periods.c.experiment_key == key, bandit_periods.c.phase == phase)
            .order_by(bandit_periods.c.number)
        )
        with reading(self.engine) as con:
            rows = con.execute(query).all()
        return [
            BanditPeriod(
                r.number,
                _aware(r.started_at),
                {str(k): float(v) for k, v in r.weights.items()},
                r.reason,
                dict(r.summary),
            )
            for r in rows
        ]

    def record(
        self,
        key: str,
        phase: int,
        number: int,
        started_at: datetime,
        weights: dict[str, float],
        reason: str,
        summary: dict[str, Any] | None = None,
    ) -> BanditPeriod:
        """Append period ``number`` (ConflictError when another update recorded it first)."""
        if started_at.tzinfo is None:
            raise StateError(f"period start {started_at.isoformat()} must carry a time zone")
        try:
            with self.engine.begin() as con:
                con.execute(
                    bandit_periods.insert().values(
                        experiment_key=key,
                        phase=phase,
                        number=number,
                        started_at=started_at,
                        weights=dict(weights),
                        reason=reason,
                        summary=dict(summary or {}),
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise ConflictError(
                f"experiment {key!r}: allocation period {number} of phase {phase} is already "
                "recorded (another update ran first)"
            ) from exc
        return BanditPeriod(number, started_at, dict(weights), reason, dict(summary or {}))
