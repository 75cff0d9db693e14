"""The analysis use case: one experiment from the store to a verdict (metrics → stats → decide).

``analyze(experiment, engine)`` takes a spec, ``analyze(frame, variant=..., metrics=...)``
a per-unit table (a data frame or an Ibis table; ``analyze_table`` a file or store table);
``analyze_registered(key, engine, registry)`` reads the spec and the current phase's start
from the registry. ``shipit.analysis.given`` analyzes given per-variant summaries
(``shipit stats``) through the same row comparisons.
Names load on first use, so ``shipit stats`` starts without the engines.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipit.analysis.frame import AnalysisResult, analyze
    from shipit.analysis.policy import guardrail_policy, metric_order, policy_from_spec
    from shipit.analysis.registered import analyze_registered
    from shipit.analysis.table import analyze_table

__all__ = [
    "AnalysisResult",
    "analyze",
    "analyze_registered",
    "analyze_table",
    "guardrail_policy",
    "metric_order",
    "policy_from_spec",
]

_WHERE: dict[str, str] = {
    "AnalysisResult": "shipit.analysis.frame",
    "analyze": "shipit.analysis.frame",
    "analyze_registered": "shipit.analysis.registered",
    "analyze_table": "shipit.analysis.table",
    "guardrail_policy": "shipit.analysis.policy",
    "metric_order": "shipit.analysis.policy",
    "policy_from_spec": "shipit.analysis.policy",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, as if they were imported eagerly."""
    return sorted({*globals(), *__all__})
