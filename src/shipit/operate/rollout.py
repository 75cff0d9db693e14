"""The verdict's rollout plan, executed step by step: each step ramps the experiment's traffic.

The plan is the one of the latest stored analysis's verdict. The step reached is read from
the audit log (one ``rollout`` entry per step taken), so it survives restarts and is the
same for every replica. Advancing is refused while the latest analysis breaches a rollback
criterion (a red guardrail, the primary metric significantly worse than control, a failed
trust check) or before the current step has run its minimum days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shipit.errors import StateError
from shipit.registry.analyses import AnalysisRepository
from shipit.registry.lifecycle import Status
from shipit.result.model import Analysis, Effect, RolloutStep
from shipit.result.schema import from_json

__all__ = ["ROLLOUT_ACTION", "RolloutStatus", "advance_rollout", "breaches", "rollout_status"]

ROLLOUT_ACTION = "rollout"


@dataclass(frozen=True)
class RolloutStatus:
    """Where a rollout stands: the plan, the step reached (0: not started) and since when,
    the breached rollback criteria of the latest analysis, and what blocks the next step."""

    key: str
    decision: str
    steps: tuple[RolloutStep, ...]
    step: int
    step_started_at: datetime | None
    traffic: float
    breaches: tuple[str, ...]
    blocked: tuple[str, ...]

    @property
    def done(self) -> bool:
        """Every step has been taken."""
        return bool(self.steps) and self.step >= len(self.steps)


def _estimate(effect: Effect) -> Any:
    return effect.adjusted if effect.adjusted is not None else effect.raw


def breaches(analysis: Analysis) -> tuple[str, ...]:
    """The rollback criteria an analysis breaches, each said in words."""
    out = [
        f"guardrail {g.metric} ({g.variant}) is red: {g.message}"
        for g in analysis.guardrails
        if g.light == "red"
    ]
    for e in analysis.effects:
        if e.metric != analysis.primary:
            continue
        est = _estimate(e)
        p = est.p_value_adjusted if est.p_value_adjusted is not None else est.p_value
        effect = est.rel_effect if est.rel_effect is not None else est.abs_effect
        if p is None or effect is None or p >= analysis.alpha:
            continue
        if (effect < 0) == e.higher_is_better:
            out.append(
                f"{e.metric} ({e.variant}) is significantly worse than control (p = {p:.3g})"
            )
    out += [
        f"trust check {t.name} failed: {t.message}" for t in analysis.trust if t.status == "fail"
    ]
    return tuple(out)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def rollout_status(registry: Any, key: str, *, now: datetime | None = None) -> RolloutStatus:
    """The rollout of registered experiment ``key`` as it stands (``registry``: an open
    registry repository)."""
    now = now or datetime.now(UTC)
    record = registry.get(key)
    latest = AnalysisRepository(registry.engine).latest(key)
    analysis = from_json(latest.body)
    verdict = analysis.verdict
    steps = tuple(verdict.rollout)
    taken = [a for a in registry.audit(key) if a.action == ROLLOUT_ACTION]
    step = int(taken[-1].details.get("step", 0)) if taken else 0
    started = _aware(taken[-1].at) if taken else None
    found = breaches(analysis)
    blocked: list[str] = []
    if record.status is not Status.RUNNING:
        blocked.append(f"experiment {key!r} is {record.status}, not running")
    if not steps:
        blocked.append(
            f"the latest analysis's verdict is {verdict.decision.value}: it has no rollout plan "
            "(only a ship verdict has one)"
        )
    elif step >= len(steps):
        blocked.append(f"the rollout is complete: step {step} of {len(steps)} is the last")
    if found:
        blocked.append("rollback criteria are breached: " + "; ".join(found))
    if steps and 0 < step <= len(steps) and started is not None:
        ready = started + timedelta(days=steps[step - 1].min_days)
        if now < ready:
            blocked.append(
                f"step {step} ({steps[step - 1].percent:g}%) has run since "
                f"{started.isoformat(timespec='seconds')}; its minimum is "
                f"{steps[step - 1].min_days} day(s), so the next step is allowed from "
                f"{ready.isoformat(timespec='seconds')}"
            )
    return RolloutStatus(
        key=key,
        decision=verdict.decision.value,
        steps=steps,
        step=step,
        step_started_at=started,
        traffic=record.experiment.traffic,
        breaches=found,
        blocked=tuple(blocked),
    )


def advance_rollout(
    registry: Any, key: str, actor: str = "unknown", *, now: datetime | None = None
) -> RolloutStatus:
    """Take the next step of ``key``'s rollout: ramp the traffic to the step's percent (a new
    phase) and record the step; StateError says every reason it is refused."""
    status = rollout_status(registry, key, now=now)
    if status.blocked:
        raise StateError(f"cannot advance the rollout of {key!r}: " + "; ".join(status.blocked))
    target = status.steps[status.step]
    number = status.step + 1
    traffic = target.percent / 100.0
    reason = f"rollout step {number} of {len(status.steps)}"
    if traffic != status.traffic:
        registry.ramp(key, traffic, actor, reason=reason)
    details = {"step": number, "percent": target.percent, "min_days": target.min_days}
    registry.note(key, ROLLOUT_ACTION, details, actor)
    return rollout_status(registry, key, now=now)
