"""The reasons' wording: each estimate and test a rule relies on, in plain words with numbers."""

from __future__ import annotations

from shipit.decide._text import fmt_p
from shipit.decide.policy import DecisionPolicy
from shipit.result.model import Effect, SegmentEffect

__all__ = ["fmt_est", "mde_txt", "method_note", "segment_line"]

_CORRECTION_NAMES = {"holm": "Holm", "bonferroni": "Bonferroni", "bh": "BH"}


def fmt_est(e: Effect) -> str:
    """One metric's lift with its interval and (adjusted) p-value."""
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


def mde_txt(policy: DecisionPolicy) -> str:
    return f"{policy.mde:.1%}" if policy.mde_relative else f"{policy.mde:g}"


def method_note(e: Effect, p_adj: float, policy: DecisionPolicy, threshold: float) -> str:
    """Why the winner wins under the plan's method, with the error control it used."""
    if policy.method == "bayesian":
        loss = f", expected loss {e.expected_loss:.3g}" if e.expected_loss is not None else ""
        pb = e.prob_better if e.prob_better is not None else float("nan")
        return f"; P(better) = {pb:.1%} ≥ {threshold:.2%}{loss}"
    if policy.method == "sequential":
        return "; the sequential boundary is crossed" + _sequential_numbers(e)
    name = _CORRECTION_NAMES.get(policy.correction)
    p_txt = f"{name}-adjusted {fmt_p(p_adj)}" if name else fmt_p(p_adj)
    return f"; {p_txt} < {policy.alpha}, above the {mde_txt(policy)} MDE"


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


def segment_line(s: SegmentEffect, p_family: float) -> str:
    """One segment's lift with its interval and its p-value adjusted over all segment tests."""
    e = s.estimate
    ci = (
        f" [{e.rel_ci_low:+.2%}, {e.rel_ci_high:+.2%}]"
        if e.rel_ci_low is not None and e.rel_ci_high is not None
        else ""
    )
    return (
        f"{s.dimension}={s.segment}: {e.rel_effect:+.2%}{ci} "
        f"(Holm over all segment tests: p = {p_family:.2g})"
    )
