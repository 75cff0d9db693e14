"""The analysis use case: one experiment from the store to a verdict (metrics → stats → decide).

``analyze(experiment, engine)`` takes a spec; ``analyze_registered(key, engine, registry)``
reads the spec and the current phase's start from the registry.
"""

from __future__ import annotations

from shipit.analysis.pipeline import analyze
from shipit.analysis.policy import guardrail_policy, metric_order, policy_from_spec
from shipit.analysis.registered import analyze_registered

__all__ = [
    "analyze",
    "analyze_registered",
    "guardrail_policy",
    "metric_order",
    "policy_from_spec",
]
