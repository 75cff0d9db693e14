"""The reasons' wording: each estimate and test a rule relies on, in plain words with numbers.

Every p-value is named by what it is: the raw or CUPED estimate's own p-value, and the
one adjusted by the plan's correction (named: Holm, Bonferroni, BH, Šidák, ...). A Bayesian plan is
read in its own terms, P(better) and expected loss, never a p-value.
"""

from __future__ import annotations

from shipit.decide.policy import DecisionPolicy
from shipit.result import format as fmt
from shipit.result.model import Effect, SegmentEffect

__all__ = ["correction_name", "fmt_est", "mde_clause", "mde_txt", "method_note", "segment_line"]

_CORRECTION_NAMES = {
    "holm": "Holm",
    "bonferroni": "Bonferroni",
    "bh": "BH",
    "sidak": "Šidák",
    "holm_sidak": "Holm–Šidák",
    "hochberg": "Hochberg",
    "hommel": "Hommel",
    "by": "BY",
}


def correction_name(policy: DecisionPolicy) -> str | None:
    """The plan's multiple-testing correction as written in prose (``None`` for none)."""
    return _CORRECTION_NAMES.get(policy.correction)


def _bayes_terms(e: Effect) -> str:
    """P(better) and expected loss, the Bayesian plan's own evidence."""
    pb = f"P(better) = {fmt.share(e.prob_better)}"
    loss = f", expected loss {fmt.num(e.expected_loss, 3)}" if e.expected_loss is not None else ""
    return pb + loss


def fmt_est(e: Effect, policy: DecisionPolicy, *, corrected: bool = True) -> str:
    """One metric's lift with its interval and its evidence, each p-value named.

    ``corrected=False`` leaves the corrected p-value out (the winner's note states it).
    """
    b = e.best
    kind = "CUPED" if e.adjusted is not None else "raw"
    if b.rel_effect is None:
        return f"{e.metric}: no estimate ({b.status})"
    head = f"{e.metric} {fmt.estimate(b.rel_effect, b.rel_ci_low, b.rel_ci_high)}"
    if policy.method == "bayesian" and e.prob_better is not None:
        return f"{head} ({kind}: {_bayes_terms(e)})"
    if b.p_value is None:
        return f"{head} ({kind})"
    ptxt = fmt.p_equals(b.p_value, f"{kind} p", policy.alpha)
    name = correction_name(policy)
    if corrected and name is not None and b.p_value_adjusted is not None:
        ptxt += ", " + fmt.p_equals(b.p_value_adjusted, f"{name}-adjusted p", policy.alpha)
    return f"{head} ({ptxt})"


def mde_txt(policy: DecisionPolicy) -> str:
    """The plan's minimum detectable effect, in its unit."""
    return fmt.magnitude(policy.mde, relative=policy.mde_relative, digits=1)


def mde_clause(policy: DecisionPolicy) -> str:
    """``, above the 2.0% MDE``, or nothing when the plan sets no MDE."""
    return f", above the {mde_txt(policy)} MDE" if policy.mde > 0 else ""


def method_note(e: Effect, p_adj: float, policy: DecisionPolicy, threshold: float) -> str:
    """Why the winner wins under the plan's method, with the error control it used."""
    if policy.method == "bayesian":
        loss = (
            f", expected loss {fmt.num(e.expected_loss, 3)}" if e.expected_loss is not None else ""
        )
        return f"; P(better) = {fmt.share(e.prob_better)} ≥ {fmt.share(threshold, 2)}{loss}"
    if policy.method == "sequential":
        return "; the sequential boundary is crossed" + _sequential_numbers(e)
    name = correction_name(policy)
    kind = f"{name}-adjusted p" if name else ("CUPED p" if e.adjusted is not None else "raw p")
    p_txt = fmt.p_equals(p_adj, kind, policy.alpha)
    return f"; {p_txt} < {fmt.num(policy.alpha)}{mde_clause(policy)}"


def _sequential_numbers(e: Effect) -> str:
    """The statistic, the bounds on the lift and the information fraction behind a crossing."""
    sq = e.sequential
    if sq is None:
        return ""
    parts = []
    if sq.statistic is not None:
        parts.append(f"z = {fmt.fixed(sq.statistic)}")
    if sq.lower is not None and sq.upper is not None:
        parts.append(f"bounds {fmt.interval(sq.lower, sq.upper)} on the lift")
    if sq.information_fraction is not None:
        parts.append(f"at {fmt.share(sq.information_fraction, 0)} of the planned information")
    return f" ({', '.join(parts)})" if parts else ""


def segment_line(s: SegmentEffect, p_family: float, alpha: float | None = None) -> str:
    """One segment's lift with its interval and its p-value adjusted over all segment tests."""
    e = s.estimate
    lift = fmt.estimate(e.rel_effect, e.rel_ci_low, e.rel_ci_high)
    p = fmt.p_equals(p_family, "Holm-adjusted p over all segment tests", alpha)
    return f"{s.dimension}={fmt.segment(s.segment)} ({s.variant}): {lift} ({p})"
