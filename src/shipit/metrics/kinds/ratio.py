"""Ratio metrics: Σ numerator / Σ denominator over units, by the delta method."""

from __future__ import annotations

from shipit.errors import SpecError
from shipit.metrics.kinds.base import UnitValue
from shipit.metrics.kinds.moment import MomentKind
from shipit.spec.metric import MetricDef

__all__ = ["RATIO", "RatioKind"]


class RatioKind(MomentKind):
    """z = [num, den] per unit; the ratio of means and its linearized variance."""

    name = "ratio"
    columns = ("num", "den")

    def unit_values(self, metric: MetricDef) -> tuple[tuple[str, UnitValue], ...]:
        """The unit's numerator and denominator aggregates."""
        num, den = metric.numerator, metric.denominator
        if num is None or den is None:
            raise SpecError(f"ratio metric {metric.name!r} needs a numerator and a denominator")
        # The metric's own filters apply to both; each part may add its own.
        if metric.where:
            num = num.model_copy(update={"where": metric.where + num.where})
            den = den.model_copy(update={"where": metric.where + den.where})
        return (("num", num), ("den", den))


RATIO = RatioKind()
