"""Bridges from stats results to the analysis value: one row of a comparison → ``Estimate``."""

from __future__ import annotations

from collections.abc import Sequence

from shipit.errors import InputError
from shipit.result.model import Effect, Estimate, SegmentEffect
from shipit.stats.results import ComparisonResult

__all__ = ["effects_from_comparison", "estimate_from", "segment_effects_from_comparison"]


def estimate_from(result: ComparisonResult, row: int) -> Estimate:
    """Row ``row`` of a vectorized comparison as an ``Estimate`` (NaN → None)."""
    if not 0 <= row < len(result):
        raise InputError(f"row {row} is outside the {len(result)} rows of the comparison")
    return Estimate(
        abs_effect=result.abs_effect[row],
        abs_se=result.abs_se[row],
        abs_ci_low=result.abs_ci_low[row],
        abs_ci_high=result.abs_ci_high[row],
        rel_effect=result.rel_effect[row],
        rel_se=result.rel_se[row],
        rel_ci_low=result.rel_ci_low[row],
        rel_ci_high=result.rel_ci_high[row],
        p_value=result.p_value[row],
        status=str(result.status[row]),
    )


def effects_from_comparison(
    raw: ComparisonResult,
    *,
    metrics: Sequence[str],
    variants: Sequence[str],
    control: str,
    kinds: Sequence[str],
    higher_is_better: Sequence[bool],
    adjusted: ComparisonResult | None = None,
) -> list[Effect]:
    """One ``Effect`` per row of a comparison whose rows are (metric, variant) pairs."""
    rows = len(raw)
    if not (len(metrics) == len(variants) == len(kinds) == len(higher_is_better) == rows):
        raise InputError(f"{rows} comparison rows need one metric, variant, kind, direction each")
    if adjusted is not None and len(adjusted) != rows:
        raise InputError(f"{len(adjusted)} adjusted rows for {rows} raw rows")
    return [
        Effect(
            metric=metrics[i],
            variant=variants[i],
            control=control,
            kind=kinds[i],
            higher_is_better=higher_is_better[i],
            n_control=int(raw.n_control[i]),
            n_variant=int(raw.n_variant[i]),
            mean_control=raw.mean_control[i],
            mean_variant=raw.mean_variant[i],
            raw=estimate_from(raw, i),
            adjusted=estimate_from(adjusted, i) if adjusted is not None else None,
        )
        for i in range(rows)
    ]


def segment_effects_from_comparison(
    result: ComparisonResult,
    *,
    dimension: str,
    segments: Sequence[str],
    metric: str,
    variant: str,
) -> list[SegmentEffect]:
    """One ``SegmentEffect`` per row of a comparison whose rows are segments."""
    if len(segments) != len(result):
        raise InputError(f"{len(segments)} segment names for {len(result)} rows")
    return [
        SegmentEffect(
            dimension=dimension,
            segment=s,
            metric=metric,
            variant=variant,
            n_control=int(result.n_control[i]),
            n_variant=int(result.n_variant[i]),
            estimate=estimate_from(result, i),
        )
        for i, s in enumerate(segments)
    ]
