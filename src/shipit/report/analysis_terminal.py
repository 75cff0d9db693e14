"""Rich terminal rendering of an Analysis: verdict panel, traffic-light summary, effects table."""

from __future__ import annotations

import io

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from shipit.report._fmt import interval, p_text, pct
from shipit.report.summaries import DECISION_WORDS
from shipit.result.model import Analysis

__all__ = ["render_terminal", "to_text"]

STYLE = {
    "green": "green",
    "yellow": "yellow",
    "red": "red",
    "pass": "green",
    "warn": "yellow",
    "fail": "red",
}
DECISION_STYLE = {
    "ship": "bold green",
    "ship_to_segment": "bold green",
    "iterate": "bold yellow",
    "roll_back": "bold red",
    "kill": "bold red",
    "halt": "bold red",
}


def _renderable(a: Analysis) -> Group:
    v = a.verdict
    title = Text(DECISION_WORDS[v.decision], style=DECISION_STYLE[v.decision])
    if v.variant:
        title.append(f"  {v.variant}", style="bold")
    if v.runner_up:
        title.append(f"   (runner-up {v.runner_up})")
    body = Text("\n".join(f"• {r}" for r in v.reasons))
    verdict = Panel(Group(title, body), title=f"{a.experiment} · verdict", expand=True)

    lights = Table(title="Traffic lights", expand=True, show_lines=False)
    lights.add_column("", width=3)
    lights.add_column("check")
    lights.add_column("detail", overflow="fold")
    for t in a.trust:
        lights.add_row(Text("●", style=STYLE[t.status]), t.name, t.message)
    for g in a.guardrails:
        lights.add_row(Text("●", style=STYLE[g.light]), f"guardrail {g.metric}", g.message)

    effects = Table(title="Effects (relative)", expand=True)
    for col in (
        "metric",
        "variant",
        "raw lift",
        "raw interval",
        "p",
        "CUPED lift",
        "CUPED interval",
        "p (CUPED)",
    ):
        effects.add_column(col, justify="left" if col in {"metric", "variant"} else "right")
    for e in a.effects:
        r, ad = e.raw, e.adjusted
        effects.add_row(
            e.metric,
            e.variant,
            pct(r.rel_effect),
            interval(r.rel_ci_low, r.rel_ci_high),
            p_text(r.p_value),
            pct(ad.rel_effect) if ad else "–",
            interval(ad.rel_ci_low, ad.rel_ci_high) if ad else "–",
            p_text(ad.p_value) if ad else "–",
        )
    parts: list[Panel | Table] = [verdict, lights, effects]
    if v.rollout:
        plan = Table(title="Rollout plan", expand=True)
        plan.add_column("traffic", justify="right")
        plan.add_column("at least", justify="right")
        plan.add_column("roll back if", overflow="fold")
        for s in v.rollout:
            plan.add_row(f"{s.percent:g}%", f"{s.min_days} d", "; ".join(s.rollback_if))
        parts.append(plan)
    return Group(*parts)


def render_terminal(analysis: Analysis, console: Console | None = None) -> None:
    """Print the analysis to a rich console (stdout by default)."""
    (console or Console()).print(_renderable(analysis))


def to_text(analysis: Analysis, *, width: int = 120) -> str:
    """The terminal rendering as plain text (for tests, logs and ``--out`` files)."""
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(_renderable(analysis))
    return console.export_text()
