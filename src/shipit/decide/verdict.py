"""The verdict: halt, roll back, ship, ship to segment, iterate/extend or kill, with reasons.

``decide`` applies the named rules of ``decide.rules`` in order (``RULES``); the first
that has something to say gives the verdict, and the last (``iterate``) always does.
Which variants win is the plan's method with its error control (``decide.context``).
"""

from __future__ import annotations

from collections.abc import Sequence

from shipit.decide.context import DecisionContext
from shipit.decide.policy import DecisionPolicy
from shipit.decide.ranking import pareto_set, utility
from shipit.decide.rollout import rollout_plan
from shipit.decide.rules import RULES, DecisionRule, iterate
from shipit.result.model import (
    Effect,
    GuardrailResult,
    Heterogeneity,
    PowerInfo,
    SegmentEffect,
    TrustCheck,
    Verdict,
)

__all__ = ["decide", "pareto_set", "rollout_plan", "utility"]


def decide(
    effects: Sequence[Effect],
    policy: DecisionPolicy,
    *,
    guardrails: Sequence[GuardrailResult] = (),
    trust: Sequence[TrustCheck] = (),
    power: Sequence[PowerInfo] = (),
    segments: Sequence[SegmentEffect] = (),
    heterogeneity: Sequence[Heterogeneity] = (),
    rules: Sequence[DecisionRule] = RULES,
) -> Verdict:
    """The verdict for one experiment from its effects, guardrails and trust checks.

    Effects carry adjusted p-values when they come through ``assemble``; given directly
    without them, each p-value is read as it is.
    """
    ctx = DecisionContext(
        effects=effects,
        policy=policy,
        guardrails=guardrails,
        trust=trust,
        power=power,
        segments=segments,
        heterogeneity=heterogeneity,
    )
    for rule in rules:
        verdict = rule(ctx)
        if verdict is not None:
            return verdict
    return iterate(ctx)  # when the rules given end without one that always answers
