"""Each funnel metric's steps per variant: reach and conversion with intervals."""

from __future__ import annotations

from collections.abc import Sequence

from shipit.metrics.kinds.funnel import FunnelSummary
from shipit.metrics.summary import GroupKey, MetricMoments
from shipit.result.model import FunnelStep
from shipit.spec.metric import MetricDef
from shipit.stats.funnel import step_conversions

__all__ = ["funnel_steps"]


def funnel_steps(
    mm: MetricMoments, metrics: Sequence[MetricDef], variants: Sequence[str], alpha: float
) -> list[FunnelStep]:
    """One row per funnel metric × variant × step, from the overall summaries."""
    out: list[FunnelStep] = []
    for m in metrics:
        summary = mm.metrics.get(m.name)
        if not isinstance(summary, FunnelSummary):
            continue
        s = summary.take(mm.rows([GroupKey(v) for v in variants]))
        c = step_conversions(s.n, s.reached, alpha)
        for i, variant in enumerate(variants):
            for j, event in enumerate(s.steps):
                out.append(
                    FunnelStep(
                        metric=m.name,
                        variant=variant,
                        step=j + 1,
                        event=event,
                        units=int(s.n[i]),
                        reached=int(s.reached[i, j]),
                        rate=c.rate[i, j],
                        rate_ci_low=c.rate_low[i, j],
                        rate_ci_high=c.rate_high[i, j],
                        conversion=c.conversion[i, j],
                        conversion_ci_low=c.conversion_low[i, j],
                        conversion_ci_high=c.conversion_high[i, j],
                    )
                )
    return out
