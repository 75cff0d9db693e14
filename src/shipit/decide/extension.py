"""How much longer an experiment needs, and when extending is no longer sensible advice.

A guardrail's one-sided test or the primary's MDE may need a sample far beyond the current
one (or none at all when the estimate sits on the margin); past MAX_EXTENSION times the
current sample the verdict asks for a decision instead of a unit count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from shipit.decide.policy import DecisionPolicy
from shipit.result.model import GuardrailResult, PowerInfo
from shipit.stats.normal import normal_quantile

__all__ = ["MAX_EXTENSION", "days_for", "guardrail_extra_units", "times", "unsettleable"]

# Beyond this many times the current sample, extending is no advice: the verdict says to decide.
MAX_EXTENSION = 10.0


def guardrail_extra_units(
    yellow: Sequence[GuardrailResult], power: Sequence[PowerInfo], policy: DecisionPolicy
) -> tuple[int | None, float | None, int]:
    """More units per variant for the one-sided test to reach the plan's power at the estimate.

    The standard error shrinks as 1/√n, so n_needed = n · (se · (z₁₋α + z₁₋β) / gap)².
    Returns the extra units, the factor n_needed / n (∞ when the estimate sits on its
    margin: no sample settles it) and the current n.
    """
    n_now = max((p.units_per_variant for p in power), default=0)
    if n_now <= 0:
        return None, None, n_now
    factor = 0.0
    q = normal_quantile(1 - policy.alpha) + normal_quantile(policy.power)
    for g in yellow:
        if g.estimate is None or g.ci_low is None or g.ci_high is None:
            continue
        se = (g.ci_high - g.ci_low) / (2 * normal_quantile(1 - policy.alpha))
        if se <= 0:
            continue
        limit = -g.margin if g.higher_is_better else g.margin
        gap = abs(g.estimate - limit)
        factor = max(factor, math.inf if gap == 0 else (se * q / gap) ** 2)
    if not factor:
        return None, None, n_now
    if math.isinf(factor):
        return None, factor, n_now
    return max(0, math.ceil(n_now * factor - n_now)), factor, n_now


def unsettleable(factor: float, n_now: int) -> str:
    """Advice when the sample a guardrail needs is out of reach: decide instead of extending."""
    size = (
        "no sample size settles it (the estimate sits on the margin)"
        if math.isinf(factor)
        else f"settling it needs about {times(factor)} the current {n_now:,} units per variant"
    )
    return (
        f"extending cannot settle the guardrail: {size}; decide instead: ship only if a loss "
        "up to the margin is acceptable (keep the guardrail as a rollback criterion), "
        "otherwise roll back"
    )


def days_for(extra: int | None, power: Sequence[PowerInfo], policy: DecisionPolicy) -> int | None:
    pw = next((p for p in power if p.metric == policy.primary), None)
    if extra is None or pw is None or not pw.extra_units or not pw.extra_days:
        return None
    per_day = pw.extra_units / pw.extra_days
    return math.ceil(extra / per_day)


def times(factor: float) -> str:
    """A multiple of the current sample: one decimal below 100 (so 10.4× does not read 10×)."""
    return f"{factor:,.1f}×" if factor < 100 else f"{factor:,.0f}×"
