"""The decision rules, applied in order: the first that has something to say gives the verdict.

1. ``halt_on_failed_trust``: a failed trust check halts the reading.
2. ``roll_back_on_red_guardrails``: every variant breaches a guardrail.
3. ``extend_on_uncertain_guardrail``: the best winner (by the plan's method, see
   ``decide.context``) has a yellow guardrail: extend until it settles.
4. ``ship_winner``: the best winner ships, all its guardrails green.
5. ``extend_segment_on_uncertain_guardrail``: a variant wins in segments but a guardrail
   (overall or in the segment) is yellow.
6. ``ship_to_segment``: a variant wins in segments (frequentist plans only, with
   family-wise error control over every segment test: see ``decide.segment_rule``).
7. ``kill_on_harm``: every variant is significantly worse.
8. ``kill_on_powered_null``: well powered, and every interval excludes the MDE.
9. ``iterate``: anything else, with the units and days still needed.

A variant with a red guardrail is never shipped, whole or to a segment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shipit.decide.context import DecisionContext
from shipit.decide.extension import (
    MAX_EXTENSION,
    days_for,
    guardrail_extra_units,
    times,
    unsettleable,
)
from shipit.decide.reasons import fmt_est, mde_txt, method_note, segment_line
from shipit.decide.rollout import rollout_plan
from shipit.decide.segment_rule import exploratory_note, pick_segments
from shipit.result import format as fmt
from shipit.result.model import GuardrailResult, Verdict
from shipit.spec.decision import Decision

__all__ = [
    "RULES",
    "DecisionRule",
    "extend_on_uncertain_guardrail",
    "extend_segment_on_uncertain_guardrail",
    "halt_on_failed_trust",
    "iterate",
    "kill_on_harm",
    "kill_on_powered_null",
    "roll_back_on_red_guardrails",
    "ship_to_segment",
    "ship_winner",
]

DecisionRule = Callable[[DecisionContext], Verdict | None]


def halt_on_failed_trust(ctx: DecisionContext) -> Verdict | None:
    failed = [t for t in ctx.trust if t.status == "fail"]
    if not failed:
        return None
    return Verdict(
        decision=Decision.HALT,
        reasons=(
            *(f"trust check failed: {t.message}" for t in failed),
            "do not read the metrics until the cause is found and fixed",
        ),
    )


def roll_back_on_red_guardrails(ctx: DecisionContext) -> Verdict | None:
    variants = ctx.variants
    if not variants or not all(v in ctx.red for v in variants):
        return None
    reds = [g for g in ctx.guardrails if g.light == "red"]
    return Verdict(
        decision=Decision.ROLL_BACK,
        variant=variants[0] if len(variants) == 1 else None,
        reasons=tuple(f"guardrail breached: {g.message}" for g in reds)
        + tuple(fmt_est(ctx.primary[v], ctx.policy) for v in variants),
    )


def _winner_reasons(ctx: DecisionContext) -> tuple[str, str | None, list[str]]:
    best = ctx.winners[0]
    runner = next((v for v in ctx.ordered if v != best), None)
    e = ctx.primary[best]
    note = method_note(e, ctx.p_adjusted(best), ctx.policy, ctx.ship_probability)
    reasons = [f"{best} wins on {fmt_est(e, ctx.policy, corrected=False)}{note}"]
    if runner is not None:
        reasons.append(f"runner-up {runner}: {fmt_est(ctx.primary[runner], ctx.policy)}")
    if ctx.utility:
        reasons.append(
            "weighted utility: " + ", ".join(f"{v} {ctx.utility[v]:+.4f}" for v in ctx.ordered)
        )
    return best, runner, reasons


def _extension(ctx: DecisionContext, yellow: Sequence[GuardrailResult]) -> tuple[int | None, str]:
    """Extra units per variant to settle yellow guardrails, and the advice that goes with it."""
    extra, factor, n_now = guardrail_extra_units(yellow, ctx.power, ctx.policy)
    if factor is not None and factor > MAX_EXTENSION:
        return None, unsettleable(factor, n_now)
    return extra, "extend the experiment until the guardrail is settled" + (
        f" (about {extra:,} more units per variant)" if extra else ""
    )


def extend_on_uncertain_guardrail(ctx: DecisionContext) -> Verdict | None:
    if not ctx.winners:
        return None
    best, runner, reasons = _winner_reasons(ctx)
    yellow = [g for g in ctx.guardrails_of(best) if g.light == "yellow"]
    if not yellow:
        return None
    extra, advice = _extension(ctx, yellow)
    reasons += [f"guardrail uncertain: {g.message}" for g in yellow]
    reasons.append(advice)
    return ctx.verdict(
        Decision.ITERATE,
        variant=best,
        runner_up=runner,
        reasons=tuple(reasons) + ctx.red_notes,
        extra_units=extra,
        extra_days=days_for(extra, ctx.power, ctx.policy),
    )


def ship_winner(ctx: DecisionContext) -> Verdict | None:
    if not ctx.winners:
        return None
    best, runner, reasons = _winner_reasons(ctx)
    mine = ctx.guardrails_of(best)
    reasons += [f"guardrail holds: {g.message}" for g in mine]
    return ctx.verdict(
        Decision.SHIP,
        variant=best,
        runner_up=runner,
        reasons=tuple(reasons) + ctx.red_notes,
        rollout=rollout_plan(mine, ctx.policy.primary),
        holdout_percent=ctx.policy.holdout_percent,
    )


def _segment_reasons(ctx: DecisionContext) -> tuple[str, ...]:
    pick = pick_segments(ctx)
    assert pick is not None
    h = pick.gate
    return (
        f"overall not conclusive: {fmt_est(ctx.primary[pick.variant], ctx.policy)}",
        f"effects of {pick.variant} differ across {h.dimension} (Cochran's Q = "
        f"{fmt.fixed(h.q)}, df = {h.df}, {fmt.p_equals(h.p_value, alpha=ctx.policy.alpha)})",
        *(
            segment_line(s, p, ctx.policy.alpha)
            for s, p in zip(pick.segments, pick.p_family, strict=True)
        ),
    )


def extend_segment_on_uncertain_guardrail(ctx: DecisionContext) -> Verdict | None:
    pick = pick_segments(ctx)
    if pick is None or not pick.uncertain:
        return None
    extra, advice = _extension(ctx, pick.uncertain_overall)
    if not pick.uncertain_overall:
        extra, advice = None, "extend the experiment until the guardrail is settled in the segment"
    return ctx.verdict(
        Decision.ITERATE,
        variant=pick.variant,
        segments=tuple(f"{s.dimension}={s.segment}" for s in pick.segments),
        reasons=_segment_reasons(ctx)
        + tuple(f"guardrail uncertain: {m}" for m in pick.uncertain)
        + (advice,)
        + ctx.red_notes,
        extra_units=extra,
        extra_days=days_for(extra, ctx.power, ctx.policy),
    )


def ship_to_segment(ctx: DecisionContext) -> Verdict | None:
    pick = pick_segments(ctx)
    if pick is None:
        return None
    v = pick.variant
    return ctx.verdict(
        Decision.SHIP_TO_SEGMENT,
        variant=v,
        segments=tuple(f"{s.dimension}={s.segment}" for s in pick.segments),
        reasons=_segment_reasons(ctx) + ctx.red_notes,
        rollout=rollout_plan(ctx.guardrails_of(v), ctx.policy.primary),
        holdout_percent=ctx.policy.holdout_percent,
    )


def _worse_words(ctx: DecisionContext) -> str:
    """How the plan's method says a variant is worse than control."""
    if ctx.policy.method == "bayesian":
        return f"is likely worse (P(better) ≤ {fmt.share(1 - ctx.ship_probability, 2)})"
    if ctx.policy.method == "sequential":
        return "crosses the sequential boundary on the harmful side"
    return "is significantly worse"


def kill_on_harm(ctx: DecisionContext) -> Verdict | None:
    worse = ctx.worse
    if not worse or len(worse) != len(ctx.variants):
        return None
    words = _worse_words(ctx)
    return ctx.verdict(
        Decision.KILL,
        reasons=tuple(f"{v} {words}: {fmt_est(ctx.primary[v], ctx.policy)}" for v in worse),
    )


def _excludes_mde(ctx: DecisionContext, variant: str) -> bool:
    e, policy = ctx.primary[variant], ctx.policy
    b = e.best
    lo, hi = (b.rel_ci_low, b.rel_ci_high) if policy.mde_relative else (b.abs_ci_low, b.abs_ci_high)
    if lo is None or hi is None:
        return False
    return (hi < policy.mde) if e.higher_is_better else (lo > -policy.mde)


def kill_on_powered_null(ctx: DecisionContext) -> Verdict | None:
    policy = ctx.policy
    pw = next((p for p in ctx.power if p.metric == policy.primary), None)
    if pw is None or pw.achieved_power is None or pw.achieved_power < policy.power:
        return None
    if not all(_excludes_mde(ctx, v) for v in ctx.variants):
        return None
    return ctx.verdict(
        Decision.KILL,
        reasons=(
            f"well-powered null: power {pw.achieved_power:.0%} at the "
            f"{mde_txt(policy)} MDE, and the interval excludes it",
            *(fmt_est(ctx.primary[v], ctx.policy) for v in ctx.variants),
        ),
    )


def iterate(ctx: DecisionContext) -> Verdict:
    policy, variants, ordered = ctx.policy, ctx.variants, ctx.ordered
    pw = next((p for p in ctx.power if p.metric == policy.primary), None)
    extra = pw.extra_units if pw is not None else None
    days = pw.extra_days if pw is not None else None
    reasons = [
        f"not conclusive: {fmt_est(ctx.primary[v], ctx.policy)}" for v in ordered or variants
    ]
    if len(variants) > 1:
        reasons.insert(0, f"none of the {len(variants)} variants is shown better than control")
    n_now = pw.units_per_variant if pw is not None else 0
    factor = (
        pw.needed_units_per_variant / n_now
        if pw is not None and pw.needed_units_per_variant and n_now > 0
        else None
    )
    if extra and factor is not None and factor > MAX_EXTENSION:
        reasons.append(
            f"extending cannot settle it: {policy.power:.0%} power at the {mde_txt(policy)} "
            f"MDE needs about {times(factor)} the current {n_now:,} units per "
            "variant; decide on the current evidence instead (stop and keep control, or "
            "redesign with a larger MDE)"
        )
        extra = days = None
    elif extra:
        reasons.append(
            f"run about {extra:,} more units per variant"
            + (f" (~{days} more days)" if days is not None else "")
            + f" to reach {policy.power:.0%} power at the {mde_txt(policy)} MDE"
        )
    note = exploratory_note(ctx)
    if note is not None:
        reasons.append(note)
    return ctx.verdict(
        Decision.ITERATE,
        variant=ordered[0] if ordered else None,
        runner_up=ordered[1] if len(ordered) > 1 else None,
        reasons=tuple(reasons) + ctx.red_notes,
        extra_units=extra,
        extra_days=days,
    )


RULES: tuple[DecisionRule, ...] = (
    halt_on_failed_trust,
    roll_back_on_red_guardrails,
    extend_on_uncertain_guardrail,
    ship_winner,
    extend_segment_on_uncertain_guardrail,
    ship_to_segment,
    kill_on_harm,
    kill_on_powered_null,
    iterate,
)
