"""Decisions: trust checks, segments, guardrails and the verdict with its reasons."""

from __future__ import annotations

from shipit.decide.assemble import assemble
from shipit.decide.build import effects_from_comparison, estimate_from
from shipit.decide.guardrails import check_guardrail
from shipit.decide.model import (
    Analysis,
    DecisionPolicy,
    Effect,
    Estimate,
    GuardrailPolicy,
    GuardrailResult,
    TrustCheck,
    Verdict,
)
from shipit.decide.verdict import decide, rollout_plan

__all__ = [
    "Analysis",
    "DecisionPolicy",
    "Effect",
    "Estimate",
    "GuardrailPolicy",
    "GuardrailResult",
    "TrustCheck",
    "Verdict",
    "assemble",
    "check_guardrail",
    "decide",
    "effects_from_comparison",
    "estimate_from",
    "rollout_plan",
]
