"""Serving a bandit: compute the next allocation period from the store and record it.

``update_bandit`` reads the reward's moments per period and variant from the engine
(``analysis.bandit_moments``), pools them, lets the spec's policy pick the next weights
(``bandits.allocation``) and appends the period to the registry. Assignment (server, SDK,
batch) then serves those weights. ``due_bandits`` lists the running bandits whose current
period is older than their ``update_every``; the monitor updates them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shipit.analysis.bandit_moments import period_moments
from shipit.bandits.allocation import next_weights
from shipit.errors import StateError
from shipit.registry import Status
from shipit.registry.bandits import BanditPeriod, BanditPeriods
from shipit.store.engine import Engine

__all__ = [
    "BanditUpdate",
    "current_weights",
    "due_bandits",
    "update_bandit",
    "update_due_bandits",
]

log = logging.getLogger("shipit.operate.bandit")


@dataclass(frozen=True)
class BanditUpdate:
    """What an update did: the period recorded (None when not due) and the periods so far."""

    key: str
    period: BanditPeriod | None
    periods: tuple[BanditPeriod, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``shipit bandit update --format json``, the API)."""
        return {
            "experiment": self.key,
            "updated": self.period is not None,
            "periods": [_period_dict(p) for p in self.periods],
        }


def _period_dict(p: BanditPeriod) -> dict[str, Any]:
    return {
        "number": p.number,
        "started_at": p.started_at.isoformat(),
        "weights": p.weights,
        "reason": p.reason,
        "summary": p.summary,
    }


def current_weights(registry: Any, key: str) -> dict[str, float] | None:
    """The weights a running bandit serves now (None: not a bandit or not started)."""
    return BanditPeriods(registry.engine).current(registry.get(key))


def _running_bandit(registry: Any, key: str) -> Any:
    record = registry.get(key)
    if record.experiment.type != "bandit" or record.experiment.bandit is None:
        raise StateError(f"experiment {key!r} is not a bandit (type: {record.experiment.type})")
    if record.status is not Status.RUNNING or record.phase is None:
        raise StateError(f"experiment {key!r} is {record.status}; only a running bandit updates")
    return record


def update_bandit(
    registry: Any,
    engine: Engine,
    key: str,
    *,
    now: datetime | None = None,
    force: bool = False,
) -> BanditUpdate:
    """Record the next allocation period of bandit ``key`` if its current one has lasted
    ``update_every`` (at once with ``force``)."""
    record = _running_bandit(registry, key)
    spec = record.experiment.bandit
    now = now or datetime.now(UTC)
    store = BanditPeriods(registry.engine)
    periods = store.periods(registry, key)
    if not force and now < periods[-1].started_at + timedelta(seconds=spec.update_seconds):
        return BanditUpdate(key, None, tuple(periods))
    if now < periods[-1].started_at:
        raise StateError(
            f"experiment {key!r}: {now.isoformat()} is before the current period's start "
            f"{periods[-1].started_at.isoformat()}"
        )
    moments = period_moments(
        record.experiment,
        engine,
        [p.started_at for p in periods],
        [p.weights for p in periods],
        phase=record.phase.number,
        phase_start=record.phase.started_at,
    )
    reward = record.experiment.metric(spec.reward)
    nxt = next_weights(
        spec,
        moments.variants,
        *moments.pooled(),
        binary=reward.base_kind == "proportion",
        period=len(periods),
        at=now,
    )
    period = store.record(
        key, record.phase.number, len(periods), now, nxt.weights, "update", nxt.summary()
    )
    return BanditUpdate(key, period, (*periods, period))


def due_bandits(registry: Any, now: datetime | None = None) -> list[str]:
    """Keys of the running bandits whose current period has lasted ``update_every``."""
    now = now or datetime.now(UTC)
    store = BanditPeriods(registry.engine)
    out = []
    for record in registry.list_experiments(Status.RUNNING):
        spec = record.experiment.bandit
        if record.experiment.type != "bandit" or spec is None or record.phase is None:
            continue
        last = store.periods(registry, record.key)[-1].started_at
        if last + timedelta(seconds=spec.update_seconds) <= now:
            out.append(record.key)
    return out


def update_due_bandits(
    registry: Any,
    store: Callable[[], Engine],
    now: datetime | None = None,
    lock: AbstractContextManager[Any] | None = None,
) -> list[BanditUpdate]:
    """Open the next period of every due bandit (the monitor's step); ``store`` gives the
    engine (opened only when one is due). One bandit's failure is logged, never raised."""
    done = []
    for key in due_bandits(registry, now):
        try:
            engine = store()
            with lock if lock is not None else nullcontext():
                done.append(update_bandit(registry, engine, key, now=now))
        except Exception as exc:  # one bandit's failure never stops the others
            log.warning("bandit update of %s failed: %s", key, exc)
    return done
