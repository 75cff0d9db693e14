"""Put one analysis together from its parts: the seam the analysis pipeline fills.

The pipeline computes effects (raw, CUPED, Bayesian, sequential), segment and daily
effects and the trust checks; ``assemble`` adds what follows from them by rule: the plan's
multiple-testing correction (once, here: over the primary and secondary metrics × variants,
and over the segments within each dimension), heterogeneity, guardrail lights and the
verdict, which reads the adjusted p-values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from shipit._types import FloatArray
from shipit.decide.guardrails import check_guardrail
from shipit.decide.policy import DecisionPolicy
from shipit.decide.segments import adjust_segments, heterogeneity
from shipit.decide.verdict import decide
from shipit.errors import InputError
from shipit.result import format as fmt
from shipit.result.model import (
    Analysis,
    DailyEffect,
    Effect,
    Estimate,
    PowerInfo,
    SegmentEffect,
    TrustCheck,
)
from shipit.stats.multiple import adjust_p_values

__all__ = ["adjust_effects", "adjust_segment_families", "assemble"]


def adjust_effects(
    effects: Sequence[Effect], *, family: Sequence[str] | None = None, correction: str = "holm"
) -> list[Effect]:
    """Correct every metric × variant comparison of the ``family`` metrics together.

    The family is the primary and secondary metrics (all metrics when ``family`` is None);
    guardrails and other metrics are their own tests and keep ``p_value_adjusted`` empty.
    The estimates acted on (CUPED-adjusted when present) are one family; the raw estimates
    shown beside CUPED ones are corrected over the raw p-values of the same comparisons.
    """
    out = list(effects)
    names = set(family) if family is not None else {e.metric for e in effects}
    idx = [i for i, e in enumerate(out) if e.metric in names]
    if not idx:
        return out
    best = adjust_p_values(_p([out[i].best for i in idx]), correction)
    raw = adjust_p_values(_p([out[i].raw for i in idx]), correction)
    for i, b, r in zip(idx, best, raw, strict=True):
        e = out[i]
        if e.adjusted is None:
            out[i] = e.model_copy(update={"raw": _with_adjusted(e.raw, b)})
        else:
            update = {"raw": _with_adjusted(e.raw, r), "adjusted": _with_adjusted(e.adjusted, b)}
            out[i] = e.model_copy(update=update)
    return out


def _p(estimates: Sequence[Estimate]) -> FloatArray:
    return np.array([np.nan if e.p_value is None else e.p_value for e in estimates])


def _with_adjusted(e: Estimate, p: float) -> Estimate:
    return e.model_copy(update={"p_value_adjusted": float(p)})


def adjust_segment_families(
    segments: Sequence[SegmentEffect], correction: str
) -> list[SegmentEffect]:
    """Correct the segment effects within each dimension (and metric), over all variants."""
    families: dict[tuple[str, str], list[int]] = {}
    for i, s in enumerate(segments):
        families.setdefault((s.dimension, s.metric), []).append(i)
    out = list(segments)
    for idx in families.values():
        fixed = adjust_segments([out[i] for i in idx], correction=correction)
        for i, s in zip(idx, fixed, strict=True):
            out[i] = s
    return out


def _in_value_order(segments: Sequence[SegmentEffect]) -> list[SegmentEffect]:
    """Segments grouped as first seen, each group's values in order (numbers numerically)."""
    first: dict[tuple[str, str, str], int] = {}
    for s in segments:
        first.setdefault((s.dimension, s.metric, s.variant), len(first))
    return sorted(
        segments,
        key=lambda s: (first[(s.dimension, s.metric, s.variant)], fmt.segment_order(s.segment)),
    )


def assemble(
    *,
    experiment: str,
    control: str,
    variants: Sequence[str],
    policy: DecisionPolicy,
    effects: Sequence[Effect],
    segments: Sequence[SegmentEffect] = (),
    daily: Sequence[DailyEffect] = (),
    trust: Sequence[TrustCheck] = (),
    power: Sequence[PowerInfo] = (),
    units: Mapping[str, int] | None = None,
    weights: Mapping[str, float] | None = None,
    true_effects: Mapping[str, float] | None = None,
    true_effects_absolute: Sequence[str] = (),
    correction: str | None = None,
    notes: Sequence[str] = (),
) -> Analysis:
    """The whole ``Analysis``: corrections, heterogeneity, guardrails and the verdict added.

    ``correction`` (the policy's when None) is applied over the primary and secondary
    metrics × variants, and over the segments within each dimension.
    """
    if control not in variants:
        raise InputError(f"control {control!r} is not among the variants {list(variants)}")
    how = correction if correction is not None else policy.correction
    effects = adjust_effects(effects, family=policy.family, correction=how)
    adjusted_segments = adjust_segment_families(_in_value_order(segments), how)
    het = heterogeneity(adjusted_segments)
    guardrails = []
    for g in policy.guardrails:
        rows = [e for e in effects if e.metric == g.metric]
        if not rows:
            raise InputError(f"guardrail metric {g.metric!r} has no effect in the analysis")
        guardrails += [check_guardrail(e, g, alpha=policy.alpha) for e in rows]
    verdict = decide(
        effects,
        policy,
        guardrails=guardrails,
        trust=trust,
        power=power,
        segments=adjusted_segments,
        heterogeneity=het,
    )
    return Analysis(
        experiment=experiment,
        method=policy.method,
        alpha=policy.alpha,
        control=control,
        variants=tuple(variants),
        primary=policy.primary,
        metrics=tuple(dict.fromkeys(e.metric for e in effects)),
        guardrail_metrics=tuple(g.metric for g in policy.guardrails),
        units=dict(units or {}),
        weights=dict(weights or {}),
        effects=tuple(effects),
        segments=tuple(adjusted_segments),
        heterogeneity=tuple(het),
        daily=tuple(daily),
        trust=tuple(trust),
        guardrails=tuple(guardrails),
        power=tuple(power),
        verdict=verdict,
        true_effects=dict(true_effects) if true_effects is not None else None,
        true_effects_absolute=tuple(true_effects_absolute),
        notes=tuple(notes),
    )
