"""shipit.metrics: metric definitions compiled to one engine query that returns moments."""

from __future__ import annotations

from shipit.metrics.compile import CompiledQuery, compile_moments
from shipit.metrics.run import GroupKey, MetricMoments, compute_moments, plan_moments

__all__ = [
    "CompiledQuery",
    "GroupKey",
    "MetricMoments",
    "compile_moments",
    "compute_moments",
    "plan_moments",
]
