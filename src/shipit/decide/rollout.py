"""The staged rollout that follows a ship: canary steps, each with its rollback criteria."""

from __future__ import annotations

from collections.abc import Sequence

from shipit.result.model import GuardrailResult, RolloutStep

__all__ = ["ROLLOUT_DAYS", "ROLLOUT_PERCENTS", "rollout_plan"]

ROLLOUT_PERCENTS: tuple[float, ...] = (1.0, 5.0, 25.0, 50.0, 100.0)
ROLLOUT_DAYS: tuple[int, ...] = (1, 2, 3, 7, 14)


def rollout_plan(guardrails: Sequence[GuardrailResult], primary: str) -> tuple[RolloutStep, ...]:
    """Canary 1% → 5% → 25% → 50% → 100%, each step rolled back on any guardrail breach."""
    criteria = []
    for g in guardrails:
        sign = "-" if g.higher_is_better else "+"
        unit = "%" if g.relative else ""
        value = g.margin * 100 if g.relative else g.margin
        criteria.append(f"{g.metric} worse than {sign}{value:g}{unit} (one-sided, at each step)")
    criteria.append(f"{primary} significantly worse than control")
    return tuple(
        RolloutStep(percent=p, min_days=d, rollback_if=tuple(criteria))
        for p, d in zip(ROLLOUT_PERCENTS, ROLLOUT_DAYS, strict=True)
    )
