"""Proportion metrics: the share of units with the event (``aggregation: any``)."""

from __future__ import annotations

from shipit.metrics.kinds.moment import MomentKind

__all__ = ["PROPORTION", "ProportionKind"]


class ProportionKind(MomentKind):
    """y ∈ {0, 1} per unit; tests use the pooled proportion's standard error."""

    name = "proportion"


PROPORTION = ProportionKind()
