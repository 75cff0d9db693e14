"""Mean metrics: the average per-unit aggregate (sum, count, count_distinct, max)."""

from __future__ import annotations

from shipit.metrics.kinds.moment import MomentKind

__all__ = ["MEAN", "MeanKind"]


class MeanKind(MomentKind):
    """y is the unit's aggregate (0 without events); Welch's t test."""

    name = "mean"


MEAN = MeanKind()
