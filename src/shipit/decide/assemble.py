"""Put one analysis together from its parts: the seam the analysis pipeline fills.

The pipeline computes effects (raw, CUPED, Bayesian, sequential), segment and daily
effects and the trust checks; ``assemble`` adds what follows from them by rule: multiple-
testing corrections, heterogeneity, guardrail lights and the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from shipit.decide.guardrails import check_guardrail
from shipit.decide.policy import DecisionPolicy
from shipit.decide.segments import adjust_segments, heterogeneity
from shipit.decide.verdict import decide
from shipit.errors import InputError
from shipit.result.model import Analysis, DailyEffect, Effect, PowerInfo, SegmentEffect, TrustCheck
from shipit.stats.multiple import adjust_p_values

__all__ = ["adjust_effects", "assemble"]


def adjust_effects(effects: Sequence[Effect]) -> list[Effect]:
    """Holm-adjust each metric's p-values across its variants (raw and adjusted estimates)."""
    out = list(effects)
    for metric in dict.fromkeys(e.metric for e in effects):
        idx = [i for i, e in enumerate(out) if e.metric == metric]
        for field in ("raw", "adjusted"):
            ests = [getattr(out[i], field) for i in idx]
            if any(e is None for e in ests):
                continue
            p = np.array([np.nan if e.p_value is None else e.p_value for e in ests])
            adj = adjust_p_values(p, "holm")
            for i, e, a in zip(idx, ests, adj, strict=True):
                new = e.model_copy(update={"p_value_adjusted": float(a)})
                out[i] = out[i].model_copy(update={field: new})
    return out


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
    correction: str = "holm",
    notes: Sequence[str] = (),
) -> Analysis:
    """The whole ``Analysis``: corrections, heterogeneity, guardrails and the verdict added."""
    if control not in variants:
        raise InputError(f"control {control!r} is not among the variants {list(variants)}")
    effects = adjust_effects(effects)
    families: dict[tuple[str, str, str], list[SegmentEffect]] = {}
    for s in segments:
        families.setdefault((s.dimension, s.metric, s.variant), []).append(s)
    adjusted_segments = [
        s for fam in families.values() for s in adjust_segments(fam, correction=correction)
    ]
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
        notes=tuple(notes),
    )
