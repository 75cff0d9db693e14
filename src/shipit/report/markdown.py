"""The analysis as Markdown: verdict, lights, effects table and audience summaries."""

from __future__ import annotations

from shipit.report._fmt import interval, p_text, pct
from shipit.report.summaries import DECISION_WORDS, summaries
from shipit.result.model import Analysis

__all__ = ["render_markdown"]

ICONS = {"green": "🟢", "yellow": "🟡", "red": "🔴", "pass": "🟢", "warn": "🟡", "fail": "🔴"}


def render_markdown(a: Analysis) -> str:
    """A Markdown report, for pull requests, wikis and decision records."""
    v = a.verdict
    out = [f"# {a.experiment}", ""]
    out.append(
        f"**Verdict: {DECISION_WORDS[v.decision]}**"
        + (f" — `{v.variant}`" if v.variant else "")
        + (f" (runner-up `{v.runner_up}`)" if v.runner_up else "")
    )
    out.append("")
    out += [f"- {r}" for r in v.reasons]
    out += ["", "## Checks and guardrails", ""]
    out += [f"- {ICONS[t.status]} **{t.name}**: {t.message}" for t in a.trust]
    out += [f"- {ICONS[g.light]} **guardrail {g.metric}**: {g.message}" for g in a.guardrails]
    out += [
        "",
        "## Effects",
        "",
        "| metric | variant | raw lift | raw interval | p | CUPED lift | CUPED interval | p |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in a.effects:
        r, ad = e.raw, e.adjusted
        cuped = (
            f"{pct(ad.rel_effect)} | {interval(ad.rel_ci_low, ad.rel_ci_high)} | "
            f"{p_text(ad.p_value)}"
            if ad is not None
            else "– | – | –"
        )
        out.append(
            f"| {e.metric} | {e.variant} | {pct(r.rel_effect)} | "
            f"{interval(r.rel_ci_low, r.rel_ci_high)} | {p_text(r.p_value)} | {cuped} |"
        )
    if v.rollout:
        out += ["", "## Rollout plan", ""]
        out += [
            f"{i}. {s.percent:g}% for at least {s.min_days} days — roll back if "
            + "; ".join(s.rollback_if)
            for i, s in enumerate(v.rollout, 1)
        ]
        out.append(f"\nLong-term holdout: {v.holdout_percent:g}%")
    for audience, lines in summaries(a).items():
        out += ["", f"## For {audience.replace('_', ' ')}", ""]
        out += [f"- {line}" for line in lines]
    return "\n".join(out) + "\n"
