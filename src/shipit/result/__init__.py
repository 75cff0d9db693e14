"""The typed result of an analysis: effects, segments, trust checks, guardrails, verdict.

``shipit.analysis`` fills it, ``shipit.decide`` adds the verdict, every report renders it;
``shipit.result.schema`` gives its stable JSON form and JSON Schema.
"""

from __future__ import annotations

from shipit.result.model import (
    SCHEMA_VERSION,
    Analysis,
    CheckStatus,
    CupedInfo,
    DailyEffect,
    Decision,
    Effect,
    Estimate,
    FunnelStep,
    GuardrailResult,
    Heterogeneity,
    Light,
    PowerInfo,
    RolloutStep,
    SegmentEffect,
    SequentialBounds,
    TrustCheck,
    Verdict,
)
from shipit.result.schema import from_json, json_schema, to_json

__all__ = [
    "SCHEMA_VERSION",
    "Analysis",
    "CheckStatus",
    "CupedInfo",
    "DailyEffect",
    "Decision",
    "Effect",
    "Estimate",
    "FunnelStep",
    "GuardrailResult",
    "Heterogeneity",
    "Light",
    "PowerInfo",
    "RolloutStep",
    "SegmentEffect",
    "SequentialBounds",
    "TrustCheck",
    "Verdict",
    "from_json",
    "json_schema",
    "to_json",
]
