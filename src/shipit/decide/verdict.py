"""The verdict: halt, roll back, ship, ship to segment, iterate/extend or kill, with reasons.

Rules, in order: a failed trust check halts; a red guardrail rolls back (a variant with a
red guardrail is never shipped); then the plan's method decides which variants win:
frequentist (primary significant after Holm across variants, in the right direction, and
at least the MDE, Spotify's rule), Bayesian (P(better) and expected loss thresholds) or
sequential (the boundary crossed). A winner ships only with all its guardrails green;
with a yellow one the experiment extends. Without a winner, significant segments with
heterogeneous effects give "ship to segment", a significant harm or a well-powered null
gives "kill", and anything else "iterate" with the units and days still needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from shipit.decide._text import fmt_p
from shipit.decide.extension import (
    MAX_EXTENSION,
    days_for,
    guardrail_extra_units,
    times,
    unsettleable,
)
from shipit.decide.policy import DecisionPolicy
from shipit.errors import InputError
from shipit.result.model import (
    Effect,
    GuardrailResult,
    Heterogeneity,
    PowerInfo,
    RolloutStep,
    SegmentEffect,
    TrustCheck,
    Verdict,
)
from shipit.stats.multiple import adjust_p_values

__all__ = ["decide", "pareto_set", "rollout_plan", "utility"]

ROLLOUT_PERCENTS: tuple[float, ...] = (1.0, 5.0, 25.0, 50.0, 100.0)
ROLLOUT_DAYS: tuple[int, ...] = (1, 2, 3, 7, 14)


def _oriented(e: Effect, relative: bool = True) -> float:
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
            total += w * (_oriented(row) if row is not None else float("nan"))
        out[v] = total
    return out


def pareto_set(effects: Sequence[Effect], variants: Sequence[str]) -> tuple[str, ...]:
    """Variants no other variant beats on every metric (oriented relative effects)."""
    metrics = sorted({e.metric for e in effects})
    table = np.array(
        [
            [
                next(
                    (_oriented(e) for e in effects if e.metric == m and e.variant == v),
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


def rollout_plan(guardrails: Sequence[GuardrailResult], primary: str) -> tuple[RolloutStep, ...]:
    """Canary 1% → 5% → 25% → 50% → 100%, each step rolled back on any guardrail breach."""
    criteria = []
    for g in guardrails:
        sign = "-" if g.higher_is_better else "+"
        unit = "%" if g.relative else ""
        value = g.margin * 100 if g.relative else g.margin
        criteria.append(f"{g.metric} worse than {sign}{value:g}{unit} (one-sided, at each step)")
    criteria.append(f"{primary} significantly worse than control")
    return tuple(
        RolloutStep(percent=p, min_days=d, rollback_if=tuple(criteria))
        for p, d in zip(ROLLOUT_PERCENTS, ROLLOUT_DAYS, strict=True)
    )


def _fmt_est(e: Effect) -> str:
    b = e.best
    which = "CUPED-adjusted" if e.adjusted is not None else "raw"
    if b.rel_effect is None:
        return f"{e.metric}: no estimate ({b.status})"
    ci = (
        f" [{b.rel_ci_low:+.2%}, {b.rel_ci_high:+.2%}]"
        if b.rel_ci_low is not None and b.rel_ci_high is not None
        else ""
    )
    p = b.p_value_adjusted if b.p_value_adjusted is not None else b.p_value
    ptxt = f", {fmt_p(p)}" if p is not None else ""
    return f"{e.metric} {b.rel_effect:+.2%}{ci} ({which}{ptxt})"


def _primary_rows(
    effects: Sequence[Effect], policy: DecisionPolicy
) -> dict[str, tuple[Effect, float]]:
    """Primary effect per variant with its Holm-adjusted p-value across variants."""
    rows = [e for e in effects if e.metric == policy.primary]
    if not rows:
        raise InputError(f"no effect for the primary metric {policy.primary!r}")
    p = np.array([np.nan if e.best.p_value is None else e.best.p_value for e in rows])
    adj = p.copy()
    ok = np.isfinite(p)
    if ok.sum() > 1:
        adj = adjust_p_values(p, "holm")
    return {e.variant: (e, float(a)) for e, a in zip(rows, adj, strict=True)}


def _wins(e: Effect, p_adj: float, policy: DecisionPolicy) -> tuple[bool, bool]:
    """(wins, significantly worse) for one variant's primary effect under the plan's method."""
    good = _oriented(e, policy.mde_relative)
    if policy.method == "bayesian":
        pb, loss = e.prob_better, e.expected_loss
        if pb is None:
            return False, False
        wins = pb >= policy.prob_threshold and (loss is None or loss <= policy.loss_threshold)
        return wins, pb <= 1 - policy.prob_threshold
    if policy.method == "sequential":
        crossed = e.sequential.crossed if e.sequential is not None else "none"
        up = "upper" if e.higher_is_better else "lower"
        down = "lower" if e.higher_is_better else "upper"
        return crossed == up and good >= policy.mde, crossed == down
    sig = p_adj < policy.alpha
    return bool(sig and good > 0 and good >= policy.mde), bool(sig and good < 0)


def decide(
    effects: Sequence[Effect],
    policy: DecisionPolicy,
    *,
    guardrails: Sequence[GuardrailResult] = (),
    trust: Sequence[TrustCheck] = (),
    power: Sequence[PowerInfo] = (),
    segments: Sequence[SegmentEffect] = (),
    heterogeneity: Sequence[Heterogeneity] = (),
) -> Verdict:
    """The verdict for one experiment from its effects, guardrails and trust checks."""
    failed = [t for t in trust if t.status == "fail"]
    if failed:
        return Verdict(
            decision="halt",
            reasons=(
                *(f"trust check failed: {t.message}" for t in failed),
                "do not read the metrics until the cause is found and fixed",
            ),
        )
    primary = _primary_rows(effects, policy)
    variants = list(primary)
    red = {g.variant for g in guardrails if g.light == "red"}
    reds = [g for g in guardrails if g.light == "red"]
    if variants and all(v in red for v in variants):
        return Verdict(
            decision="roll_back",
            variant=variants[0] if len(variants) == 1 else None,
            reasons=tuple(f"guardrail breached: {g.message}" for g in reds)
            + tuple(_fmt_est(primary[v][0]) for v in variants),
        )
    util = utility(effects, policy.weights, variants) if policy.weights else {}
    pareto = pareto_set(effects, variants) if len(variants) > 1 else ()
    status = {v: _wins(e, p, policy) for v, (e, p) in primary.items()}

    def rank(v: str) -> float:
        score = util.get(v) if util else _oriented(primary[v][0])
        return -math.inf if score is None or math.isnan(score) else score

    ordered = sorted((v for v in variants if v not in red), key=rank, reverse=True)
    winners = [v for v in ordered if status[v][0]]
    red_notes = tuple(f"not shipped, guardrail breached: {g.message}" for g in reds)

    if winners:
        best = winners[0]
        runner = next((v for v in ordered if v != best), None)
        e, p_adj = primary[best]
        reasons = [f"{best} wins on {_fmt_est(e)}" + _method_note(e, p_adj, policy)]
        if runner is not None:
            reasons.append(f"runner-up {runner}: {_fmt_est(primary[runner][0])}")
        if util:
            reasons.append("weighted utility: " + ", ".join(f"{v} {util[v]:+.4f}" for v in ordered))
        mine = [g for g in guardrails if g.variant == best]
        yellow = [g for g in mine if g.light == "yellow"]
        if yellow:
            extra, factor, n_now = guardrail_extra_units(yellow, power, policy)
            reasons += [f"guardrail uncertain: {g.message}" for g in yellow]
            if factor is not None and factor > MAX_EXTENSION:
                extra = None
                reasons.append(unsettleable(factor, n_now))
            else:
                reasons.append(
                    "extend the experiment until the guardrail is settled"
                    + (f" (about {extra:,} more units per variant)" if extra else "")
                )
            return Verdict(
                decision="iterate",
                variant=best,
                runner_up=runner,
                reasons=tuple(reasons) + red_notes,
                extra_units=extra,
                extra_days=days_for(extra, power, policy),
                utility=util,
                pareto=pareto,
            )
        reasons += [f"guardrail holds: {g.message}" for g in mine]
        return Verdict(
            decision="ship",
            variant=best,
            runner_up=runner,
            reasons=tuple(reasons) + red_notes,
            rollout=rollout_plan(mine, policy.primary),
            holdout_percent=policy.holdout_percent,
            utility=util,
            pareto=pareto,
        )

    seg = _segment_winners(segments, heterogeneity, policy, primary)
    if seg is not None:
        v, names, why = seg
        return Verdict(
            decision="ship_to_segment",
            variant=v,
            segments=names,
            reasons=why + red_notes,
            rollout=rollout_plan([g for g in guardrails if g.variant == v], policy.primary),
            holdout_percent=policy.holdout_percent,
            utility=util,
            pareto=pareto,
        )

    worse = [v for v in variants if status[v][1]]
    if worse and len(worse) == len(variants):
        return Verdict(
            decision="kill",
            reasons=tuple(f"{v} is significantly worse: {_fmt_est(primary[v][0])}" for v in worse),
            utility=util,
            pareto=pareto,
        )
    pw = next((p for p in power if p.metric == policy.primary), None)
    if pw is not None and pw.achieved_power is not None and pw.achieved_power >= policy.power:
        nulls = [v for v in variants if _excludes_mde(primary[v][0], policy)]
        if nulls and len(nulls) == len(variants):
            return Verdict(
                decision="kill",
                reasons=(
                    f"well-powered null: power {pw.achieved_power:.0%} at the "
                    f"{_mde_txt(policy)} MDE, and the interval excludes it",
                    *(_fmt_est(primary[v][0]) for v in variants),
                ),
                utility=util,
                pareto=pareto,
            )
    extra = pw.extra_units if pw is not None else None
    days = pw.extra_days if pw is not None else None
    reasons = [f"not conclusive: {_fmt_est(primary[v][0])}" for v in ordered or variants]
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
            f"extending cannot settle it: {policy.power:.0%} power at the {_mde_txt(policy)} "
            f"MDE needs about {times(factor)} the current {n_now:,} units per "
            "variant; decide on the current evidence instead (stop and keep control, or "
            "redesign with a larger MDE)"
        )
        extra = days = None
    elif extra:
        reasons.append(
            f"run about {extra:,} more units per variant"
            + (f" (~{days} more days)" if days is not None else "")
            + f" to reach {policy.power:.0%} power at the {_mde_txt(policy)} MDE"
        )
    return Verdict(
        decision="iterate",
        variant=ordered[0] if ordered else None,
        runner_up=ordered[1] if len(ordered) > 1 else None,
        reasons=tuple(reasons) + red_notes,
        extra_units=extra,
        extra_days=days,
        utility=util,
        pareto=pareto,
    )


def _mde_txt(policy: DecisionPolicy) -> str:
    return f"{policy.mde:.1%}" if policy.mde_relative else f"{policy.mde:g}"


def _method_note(e: Effect, p_adj: float, policy: DecisionPolicy) -> str:
    if policy.method == "bayesian":
        loss = f", expected loss {e.expected_loss:.3g}" if e.expected_loss is not None else ""
        pb = e.prob_better if e.prob_better is not None else float("nan")
        return f"; P(better) = {pb:.1%}{loss}"
    if policy.method == "sequential":
        return "; the sequential boundary is crossed" + _sequential_numbers(e)
    return f"; Holm-adjusted {fmt_p(p_adj)} < {policy.alpha}, above the {_mde_txt(policy)} MDE"


def _sequential_numbers(e: Effect) -> str:
    """The statistic, the bounds on the lift and the information fraction behind a crossing."""
    sq = e.sequential
    if sq is None:
        return ""
    parts = []
    if sq.statistic is not None:
        parts.append(f"z = {sq.statistic:.2f}")
    if sq.lower is not None and sq.upper is not None:
        parts.append(f"bounds [{sq.lower:+.2%}, {sq.upper:+.2%}] on the lift")
    if sq.information_fraction is not None:
        parts.append(f"at {sq.information_fraction:.0%} of the planned information")
    return f" ({', '.join(parts)})" if parts else ""


def _segment_line(s: SegmentEffect) -> str:
    """One segment's lift with its interval and adjusted p-value."""
    e = s.estimate
    ci = (
        f" [{e.rel_ci_low:+.2%}, {e.rel_ci_high:+.2%}]"
        if e.rel_ci_low is not None and e.rel_ci_high is not None
        else ""
    )
    return (
        f"{s.dimension}={s.segment}: {e.rel_effect:+.2%}{ci} "
        f"(adjusted p = {e.p_value_adjusted:.2g})"
    )


def _excludes_mde(e: Effect, policy: DecisionPolicy) -> bool:
    b = e.best
    lo, hi = (b.rel_ci_low, b.rel_ci_high) if policy.mde_relative else (b.abs_ci_low, b.abs_ci_high)
    if lo is None or hi is None:
        return False
    return (hi < policy.mde) if e.higher_is_better else (lo > -policy.mde)


def _segment_winners(
    segments: Sequence[SegmentEffect],
    heterogeneity: Sequence[Heterogeneity],
    policy: DecisionPolicy,
    primary: dict[str, tuple[Effect, float]],
) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """Segments where the primary effect wins (adjusted p) when effects are heterogeneous."""
    for h in heterogeneity:
        if h.metric != policy.primary or h.p_value is None or h.p_value >= policy.alpha:
            continue
        e = primary.get(h.variant)
        if e is None:
            continue
        sign = 1.0 if e[0].higher_is_better else -1.0
        good = [
            s
            for s in segments
            if s.metric == h.metric
            and s.variant == h.variant
            and s.dimension == h.dimension
            and s.estimate.p_value_adjusted is not None
            and s.estimate.p_value_adjusted < policy.alpha
            and s.estimate.rel_effect is not None
            and sign * s.estimate.rel_effect >= policy.mde
        ]
        if good:
            names = tuple(f"{s.dimension}={s.segment}" for s in good)
            why = (
                f"overall not conclusive: {_fmt_est(e[0])}",
                f"effects differ across {h.dimension} (Cochran's Q = {h.q:.2f}, "
                f"df = {h.df}, p = {h.p_value:.2g})",
                *(_segment_line(s) for s in good),
            )
            return h.variant, names, why
    return None
