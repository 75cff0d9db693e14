"""Summaries per audience, as experimentation teams write them, each a few plain lines.

executive: impact, risk, recommendation · product: segments, next iteration ·
engineering: latency/error guardrails, sample ratio · data science: tests, intervals,
corrections, power.
"""

from __future__ import annotations

from shipit.errors import InputError
from shipit.result import format as fmt
from shipit.result.model import Analysis, Effect

__all__ = ["AUDIENCES", "summaries", "summary", "true_effect"]

AUDIENCES = ("executive", "product", "engineering", "data_science")

DECISION_WORDS = {
    "halt": "Halt: the data cannot be trusted yet",
    "roll_back": "Roll back",
    "ship": "Ship",
    "ship_to_segment": "Ship to the named segments only",
    "iterate": "Keep running / iterate",
    "kill": "Kill",
}


def _primary(a: Analysis) -> list[Effect]:
    return [e for e in a.effects if e.metric == a.primary]


def _line(e: Effect) -> str:
    b = e.best
    return f"{e.metric} ({e.variant}): {fmt.estimate(b.rel_effect, b.rel_ci_low, b.rel_ci_high)}"


def _seg(value: str | None) -> str:
    return fmt.MISSING if value is None else fmt.segment(value)


def executive(a: Analysis) -> list[str]:
    """Impact, risk, recommendation."""
    v = a.verdict
    head = DECISION_WORDS[v.decision] + (f" {v.variant}" if v.variant else "") + "."
    lines = [head]
    lines += [f"Impact: {_line(e)}" for e in _primary(a)]
    risky = [g for g in a.guardrails if g.light != "green"]
    if not a.guardrails:
        risk = "no guardrails in the plan, so no harm was tested for"
    else:
        risk = "; ".join(g.message for g in risky) if risky else "all guardrails green"
    lines.append(f"Risk: {risk}")
    if v.reasons:
        lines.append(f"Why: {v.reasons[0]}")
    return lines


def product(a: Analysis) -> list[str]:
    """Segments and the next iteration."""
    lines = []
    for h in a.heterogeneity:
        if h.metric != a.primary:
            continue
        differ = h.p_value is not None and h.p_value < a.alpha
        rank = (
            f"; strongest {_seg(h.strongest)}, weakest {_seg(h.weakest)} (by relative effect)"
            if h.strongest is not None and h.weakest is not None
            else ""
        )
        lines.append(
            f"{h.dimension} ({h.variant}): effects "
            f"{'differ' if differ else 'do not differ detectably'} "
            f"(Cochran's Q {fmt.p_equals(h.p_value, alpha=a.alpha)}){rank}"
        )
    for s in a.segments:
        if s.metric == a.primary:
            e = s.estimate
            lift = fmt.estimate(e.rel_effect, e.rel_ci_low, e.rel_ci_high)
            lines.append(f"{s.dimension}={fmt.segment(s.segment)} ({s.variant}): {lift}")
    v = a.verdict
    stuck = next((r for r in v.reasons if r.startswith("extending cannot settle")), None)
    if v.decision == "iterate" and stuck is not None:
        lines.append(f"Next: decide on the current evidence; {stuck}")
    elif v.decision == "iterate":
        more = (
            f"{fmt.count(v.extra_units)} more units per variant" if v.extra_units else "more data"
        )
        days = f" (~{fmt.count(v.extra_days)} days)" if v.extra_days else ""
        lines.append(f"Next: collect {more}{days}")
    elif v.runner_up:
        lines.append(f"Next: runner-up {v.runner_up} is the next candidate to iterate on")
    return lines or ["No segment analysis in this run."]


def engineering(a: Analysis) -> list[str]:
    """Guardrails (latency, errors, load) and the sample ratio."""
    lines = [f"[{g.light.upper()}] {g.message}" for g in a.guardrails]
    lines += [
        f"[{t.status.upper()}] {t.name}: {t.message}"
        for t in a.trust
        if t.name.startswith("srm") or t.name in {"multi_variant_units", "out_of_phase_exposures"}
    ]
    if a.verdict.rollout:
        steps = " → ".join(fmt.points(s.percent) for s in a.verdict.rollout)
        lines.append(
            f"Rollout: {steps}; hold out {fmt.points(a.verdict.holdout_percent)} long-term"
        )
    return lines or ["No guardrails or exposure checks in this run."]


def data_science(a: Analysis) -> list[str]:
    """Tests, intervals, corrections and power."""
    lines = [f"Method: {a.method}, α = {fmt.num(a.alpha)}"]
    for e in a.effects:
        r = e.raw
        raw = fmt.estimate(r.rel_effect, r.rel_ci_low, r.rel_ci_high)
        line = f"{e.metric} ({e.variant}): raw {raw}, {fmt.p_equals(r.p_value, 'raw p', a.alpha)}"
        if e.adjusted is not None:
            ad = e.adjusted
            line += f"; CUPED {fmt.estimate(ad.rel_effect, ad.rel_ci_low, ad.rel_ci_high)}"
            if ad.p_value is not None:
                line += f", {fmt.p_equals(ad.p_value, 'CUPED p', a.alpha)}"
        if e.prob_better is not None:
            line += f"; P(better) = {fmt.share(e.prob_better)}"
        lines.append(line)
    lines += [f"[{t.status.upper()}] {t.name}: {t.message}" for t in a.trust]
    for p in a.power:
        achieved = fmt.share(p.achieved_power, 0)
        reach = fmt.magnitude(p.reachable_mde, relative=p.relative)
        more = (
            f"; {fmt.count(p.extra_units)} more units per variant needed" if p.extra_units else ""
        )
        lines.append(
            f"power on {p.metric}: {achieved} at MDE {fmt.magnitude(p.mde, relative=p.relative)}; "
            f"reachable MDE {reach}{more}"
        )
    if a.true_effects:
        lines.append(
            "true effects (simulation): "
            + ", ".join(f"{k} {true_effect(a, k, v)}" for k, v in sorted(a.true_effects.items()))
        )
    return lines


def true_effect(a: Analysis, key: str, value: float) -> str:
    """A recorded true effect in its unit: a percentage when relative (as every relative
    effect reads), a signed number marked ``(abs.)`` when absolute."""
    if key in a.true_effects_absolute:
        return f"{fmt.signed(value)} (abs.)"
    return fmt.pct(value)


def summary(a: Analysis, audience: str) -> list[str]:
    """The summary lines for one audience."""
    funcs = {
        "executive": executive,
        "product": product,
        "engineering": engineering,
        "data_science": data_science,
    }
    if audience not in funcs:
        raise InputError(f"unknown audience {audience!r}; choose one of {', '.join(AUDIENCES)}")
    return funcs[audience](a)


def summaries(a: Analysis) -> dict[str, list[str]]:
    """Every audience's summary."""
    return {k: summary(a, k) for k in AUDIENCES}
