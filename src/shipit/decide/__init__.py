"""Decisions: trust checks, segments, guardrails and the verdict with its reasons."""

from __future__ import annotations

from shipit.decide.assemble import assemble
from shipit.decide.build import (
    effects_from_comparison,
    estimate_from,
    segment_effects_from_comparison,
)
from shipit.decide.guardrails import check_guardrail
from shipit.decide.policy import DecisionPolicy, GuardrailPolicy
from shipit.decide.verdict import decide, rollout_plan

__all__ = [
    "DecisionPolicy",
    "GuardrailPolicy",
    "assemble",
    "check_guardrail",
    "decide",
    "effects_from_comparison",
    "estimate_from",
    "rollout_plan",
    "segment_effects_from_comparison",
]
