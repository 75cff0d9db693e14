"""Ranking variants: effects oriented so that "good" is positive, utility and the Pareto set."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shipit.result.model import Effect

__all__ = ["oriented", "pareto_set", "utility"]


def oriented(e: Effect, relative: bool = True) -> float:
    """The effect with "good" positive, NaN when missing."""
    v = e.best.rel_effect if relative else e.best.abs_effect
    if v is None:
        return float("nan")
    return v if e.higher_is_better else -v


def utility(
    effects: Sequence[Effect], weights: dict[str, float], variants: Sequence[str]
) -> dict[str, float | None]:
    """Weighted sum of the oriented relative effects of each variant over weighted metrics."""
    out: dict[str, float | None] = {}
    for v in variants:
        total = 0.0
        for metric, w in weights.items():
            row = next((e for e in effects if e.metric == metric and e.variant == v), None)
            total += w * (oriented(row) if row is not None else float("nan"))
        out[v] = total
    return out


def pareto_set(effects: Sequence[Effect], variants: Sequence[str]) -> tuple[str, ...]:
    """Variants no other variant beats on every metric (oriented relative effects)."""
    metrics = sorted({e.metric for e in effects})
    table = np.array(
        [
            [
                next(
                    (oriented(e) for e in effects if e.metric == m and e.variant == v),
                    float("nan"),
                )
                for m in metrics
            ]
            for v in variants
        ]
    )
    table = np.nan_to_num(table, nan=-np.inf)
    keep = []
    for i, v in enumerate(variants):
        dominated = np.any(np.all(table >= table[i], axis=1) & np.any(table > table[i], axis=1))
        if not dominated:
            keep.append(v)
    return tuple(keep)
