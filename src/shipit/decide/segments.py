"""Segment analysis: per-segment effects corrected for multiplicity, and heterogeneity.

Cochran's Q tests whether the segment effects differ at all (Q = Σ wᵢ(θᵢ − θ̄)², wᵢ = 1/seᵢ²,
χ² with k − 1 df); I² says how much of their spread is beyond chance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shipit.errors import InputError
from shipit.result.model import Estimate, Heterogeneity, SegmentEffect
from shipit.stats.heterogeneity import cochran_q
from shipit.stats.multiple import CORRECTIONS, adjust_p_values

__all__ = ["adjust_segments", "cochran_q", "heterogeneity"]


def adjust_segments(
    effects: Sequence[SegmentEffect], *, correction: str = "holm"
) -> list[SegmentEffect]:
    """Fill ``p_value_adjusted`` across all segments given (one family of tests)."""
    if correction not in CORRECTIONS:
        raise InputError(f"correction {correction!r} is not one of {', '.join(CORRECTIONS)}")
    p = np.array([np.nan if e.estimate.p_value is None else e.estimate.p_value for e in effects])
    adj = adjust_p_values(p, correction)
    return [
        e.model_copy(
            update={"estimate": e.estimate.model_copy(update={"p_value_adjusted": float(a)})}
        )
        for e, a in zip(effects, adj, strict=True)
    ]


def _value(e: Estimate, relative: bool) -> tuple[float, float]:
    est = e.rel_effect if relative else e.abs_effect
    se = e.rel_se if relative else e.abs_se
    return (np.nan if est is None else est), (np.nan if se is None else se)


def _shown(e: Estimate) -> float:
    """The effect a report prints for a segment: relative, else absolute."""
    x = e.rel_effect if e.rel_effect is not None else e.abs_effect
    return np.nan if x is None else float(x)


def heterogeneity(
    effects: Sequence[SegmentEffect], *, relative: bool = True
) -> list[Heterogeneity]:
    """Cochran's Q per (dimension, metric, variant), with the strongest/weakest segment.

    "Strongest" is the segment with the largest relative effect in magnitude, "weakest"
    the one with the smallest: ranked by the effect the reports show beside them (the
    relative one; the absolute one when a segment has no relative estimate).
    """
    groups: dict[tuple[str, str, str], list[SegmentEffect]] = {}
    for e in effects:
        groups.setdefault((e.dimension, e.metric, e.variant), []).append(e)
    out = []
    for (dim, metric, variant), rows in groups.items():
        vals = np.array([_value(r.estimate, relative) for r in rows])
        q, df, p, i2 = cochran_q(vals[:, 0], vals[:, 1])
        shown = np.array([_shown(r.estimate) for r in rows])
        strongest = weakest = None
        if np.isfinite(shown).any():
            size = np.where(np.isfinite(shown), np.abs(shown), np.nan)
            strongest = rows[int(np.nanargmax(size))].segment
            weakest = rows[int(np.nanargmin(size))].segment
        out.append(
            Heterogeneity(
                dimension=dim,
                metric=metric,
                variant=variant,
                q=q,
                df=df,
                p_value=p,
                i_squared=i2,
                strongest=strongest,
                weakest=weakest,
            )
        )
    return out
