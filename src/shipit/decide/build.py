"""Bridges from stats results to the analysis value: rows of a comparison → ``Effect`` rows.

The analysis pipeline and the tests build effects and segment effects through these same
converters, so the verdict tests exercise the path production takes.
"""

from __future__ import annotations

from collections.abc import Sequence

from shipit.errors import InputError
from shipit.result.model import (
    CupedInfo,
    Effect,
    Estimate,
    RankEstimate,
    SegmentEffect,
    SequentialBounds,
)
from shipit.stats.cuped import CupedResult
from shipit.stats.rank import RankResult
from shipit.stats.results import ComparisonResult

__all__ = [
    "cuped_info_from",
    "effects_from_comparison",
    "estimate_from",
    "segment_effects_from_comparison",
]


def cuped_info_from(result: CupedResult, row: int, names: Sequence[str] | None = None) -> CupedInfo:
    """Row ``row`` of a CUPED adjustment: θ per covariate and the variance reduction.

    ``names`` are the covariates as the spec names them, one per column of θ (the
    moments' own column names otherwise)."""
    keys = [str(c) for c in result.covariates]
    if names is not None and len(names) == len(keys):
        keys = list(names)
    return CupedInfo(
        variance_reduction=float(result.variance_reduction[row]),
        equivalent_n=float(result.equivalent_n[row]),
        theta={k: float(t) for k, t in zip(keys, result.theta[row], strict=True)},
    )


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
    prob_better: Sequence[float] | None = None,
    expected_loss: Sequence[float] | None = None,
    sequential: Sequence[SequentialBounds] | None = None,
    cuped: CupedResult | None = None,
    covariates: Sequence[str] | None = None,
    rank: RankResult | None = None,
    bootstrap_p_value: Sequence[float] | None = None,
) -> list[Effect]:
    """One ``Effect`` per row of a comparison whose rows are (metric, variant) pairs.

    ``adjusted`` is the CUPED comparison of the same rows; ``prob_better``,
    ``expected_loss`` (Bayesian plans) and ``sequential`` (sequential plans) give one value
    per row; ``cuped`` the adjustment behind ``adjusted``, its covariates named by
    ``covariates``; ``rank`` the rank test of the same rows (``test: mann_whitney``);
    ``bootstrap_p_value`` the share of resampled effects across zero (``interval:
    bootstrap``).
    """
    rows = len(raw)
    if not (len(metrics) == len(variants) == len(kinds) == len(higher_is_better) == rows):
        raise InputError(f"{rows} comparison rows need one metric, variant, kind, direction each")
    for name, extra in (
        ("adjusted", adjusted),
        ("prob_better", prob_better),
        ("expected_loss", expected_loss),
        ("sequential", sequential),
    ):
        if extra is not None and len(extra) != rows:
            raise InputError(f"{len(extra)} {name} rows for {rows} raw rows")
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
            prob_better=prob_better[i] if prob_better is not None else None,
            expected_loss=expected_loss[i] if expected_loss is not None else None,
            sequential=sequential[i] if sequential is not None else None,
            cuped=(
                cuped_info_from(cuped, i, covariates)
                if cuped is not None and adjusted is not None
                else None
            ),
            rank=_rank(rank, i) if rank is not None else None,
            bootstrap_p_value=(
                float(bootstrap_p_value[i]) if bootstrap_p_value is not None else None
            ),
        )
        for i in range(rows)
    ]


def segment_effects_from_comparison(
    result: ComparisonResult,
    *,
    dimension: str,
    segments: Sequence[str],
    metric: str,
    variant: str | Sequence[str],
    raw: ComparisonResult | None = None,
) -> list[SegmentEffect]:
    """One ``SegmentEffect`` per row of a comparison whose rows are segments (of variants).

    ``result`` is the comparison to act on (CUPED-adjusted when the analysis has it);
    ``raw`` the unadjusted comparison of the same rows, kept beside it. ``variant`` is one
    name for every row or one per row.
    """
    rows = len(result)
    names = [variant] * rows if isinstance(variant, str) else list(variant)
    if len(segments) != rows or len(names) != rows:
        raise InputError(f"{len(segments)} segment and {len(names)} variant names for {rows} rows")
    if raw is not None and len(raw) != rows:
        raise InputError(f"{len(raw)} raw rows for {rows} segment rows")
    return [
        SegmentEffect(
            dimension=dimension,
            segment=s,
            metric=metric,
            variant=names[i],
            n_control=int((raw or result).n_control[i]),
            n_variant=int((raw or result).n_variant[i]),
            estimate=estimate_from(result, i),
            raw=estimate_from(raw, i) if raw is not None else None,
        )
        for i, s in enumerate(segments)
    ]


def _rank(r: RankResult, i: int) -> RankEstimate:
    """Row ``i`` of a rank test as the result model's ``RankEstimate``."""
    return RankEstimate(
        u=r.u[i],
        z=r.z[i],
        p_value=r.p_value[i],
        prob_superiority=r.prob_superiority[i],
        ci_low=r.ci_low[i],
        ci_high=r.ci_high[i],
    )
