"""shipit.metrics: metric definitions compiled to engine queries that return a summary per
metric and group (moments, or a kind's own summary; kinds are plug-ins, see ``kinds``)."""

from __future__ import annotations

from shipit.metrics.compile import CompiledQuery, compile_moments
from shipit.metrics.kinds import MetricKind, kind_of
from shipit.metrics.request import MomentsRequest
from shipit.metrics.run import compute_moments, plan_moments
from shipit.metrics.summary import GroupKey, MetricMoments, Summary

__all__ = [
    "CompiledQuery",
    "GroupKey",
    "MetricKind",
    "MetricMoments",
    "MomentsRequest",
    "Summary",
    "compile_moments",
    "compute_moments",
    "kind_of",
    "plan_moments",
]
