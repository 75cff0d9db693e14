"""Which segments a variant may ship to when it does not win overall.

A segment ship is a second way to ship, so its tests must not add false ships: the
family is every segment test of the primary metric (all dimensions and variants), Holm-
adjusted at α. With the overall test's good direction holding at most α/2 under the
global null (any FWER correction across variants), the segment route adds at most α/2
more, so the total false-ship rate stays ≤ α. Heterogeneity (Cochran's Q) is a further
gate, which only makes the route stricter. Guardrails come first: a variant with a red
guardrail overall is never shipped to a segment, a segment whose own guardrail estimate is
red is dropped, and a yellow one (overall or in the segment) extends instead of shipping.

Only frequentist plans ship to segments. A Bayesian rule already spends its whole error
budget (1 − threshold) on the overall decision, and a sequential plan reads the data at
every look, where the fixed-horizon segment tests do not hold their level: there the
segments are exploratory, reported but never shipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shipit.decide.context import DecisionContext
from shipit.decide.guardrails import guardrail_light
from shipit.result import format as fmt
from shipit.result.model import GuardrailResult, Heterogeneity, SegmentEffect
from shipit.stats.multiple import adjust_p_values

__all__ = ["SegmentPick", "exploratory_note", "pick_segments", "segment_family_p"]


@dataclass(frozen=True)
class SegmentPick:
    """A variant's winning segments in one dimension, and the guardrails that hold them back."""

    variant: str
    gate: Heterogeneity
    segments: tuple[SegmentEffect, ...]
    p_family: tuple[float, ...]
    uncertain: tuple[str, ...]  # yellow guardrail messages, overall and in the segments
    uncertain_overall: tuple[GuardrailResult, ...]


def segment_family_p(ctx: DecisionContext) -> dict[int, float]:
    """Holm-adjusted p-value of every segment test of the primary, keyed by ``id`` of the row."""
    rows = [s for s in ctx.segments if s.metric == ctx.policy.primary]
    p = np.array([np.nan if s.estimate.p_value is None else s.estimate.p_value for s in rows])
    adj = adjust_p_values(p, "holm") if rows else p
    return {id(s): float(a) for s, a in zip(rows, adj, strict=True)}


def _segment_guardrails(ctx: DecisionContext, s: SegmentEffect) -> list[tuple[str, str]]:
    """(light, message) of each guardrail whose metric has an estimate in segment ``s``."""
    out = []
    for g in ctx.policy.guardrails:
        overall = next(
            (r for r in ctx.guardrails if r.metric == g.metric and r.variant == s.variant), None
        )
        row = next(
            (
                r
                for r in ctx.segments
                if r.metric == g.metric
                and r.variant == s.variant
                and r.dimension == s.dimension
                and r.segment == s.segment
            ),
            None,
        )
        if overall is None or row is None:
            continue
        value = row.estimate.rel_effect if g.relative else row.estimate.abs_effect
        se = row.estimate.rel_se if g.relative else row.estimate.abs_se
        light = "yellow"
        if value is not None and se is not None:
            hib = overall.higher_is_better
            light = guardrail_light(
                value, se, g.margin, higher_is_better=hib, alpha=ctx.policy.alpha
            )[0]
        out.append((light, f"{g.metric} ({s.variant}) in {s.dimension}={s.segment}: {light}"))
    return out


def pick_segments(ctx: DecisionContext) -> SegmentPick | None:
    """The first heterogeneous dimension whose segments win for a variant without a red light."""
    policy = ctx.policy
    if policy.method != "frequentist":
        return None
    family = segment_family_p(ctx)
    for h in ctx.heterogeneity:
        if h.metric != policy.primary or h.p_value is None or h.p_value >= policy.alpha:
            continue
        e = ctx.primary.get(h.variant)
        if e is None or h.variant in ctx.red:
            continue
        sign = 1.0 if e.higher_is_better else -1.0
        good, uncertain = [], []
        for s in ctx.segments:
            if (s.metric, s.variant, s.dimension) != (h.metric, h.variant, h.dimension):
                continue
            value = s.estimate.rel_effect if policy.mde_relative else s.estimate.abs_effect
            if value is None or not family.get(id(s), 1.0) < policy.alpha:
                continue
            if not (sign * value > 0 and sign * value >= policy.mde):
                continue
            lights = _segment_guardrails(ctx, s)
            if any(light == "red" for light, _ in lights):
                continue
            uncertain += [msg for light, msg in lights if light == "yellow"]
            good.append(s)
        if good:
            overall = tuple(g for g in ctx.guardrails_of(h.variant) if g.light == "yellow")
            return SegmentPick(
                variant=h.variant,
                gate=h,
                segments=tuple(good),
                p_family=tuple(family[id(s)] for s in good),
                uncertain=tuple(g.message for g in overall) + tuple(uncertain),
                uncertain_overall=overall,
            )
    return None


def exploratory_note(ctx: DecisionContext) -> str | None:
    """Under a Bayesian or sequential plan, a heterogeneous dimension is worth a word, no ship."""
    if ctx.policy.method == "frequentist":
        return None
    h = next(
        (
            h
            for h in ctx.heterogeneity
            if h.metric == ctx.policy.primary
            and h.p_value is not None
            and h.p_value < ctx.policy.alpha
        ),
        None,
    )
    if h is None:
        return None
    return (
        f"effects of {h.variant} differ across {h.dimension} (Cochran's Q "
        f"{fmt.p_equals(h.p_value, alpha=ctx.policy.alpha)}); under a "
        f"{ctx.policy.method} plan segments are exploratory: test the segment in a new experiment"
    )
