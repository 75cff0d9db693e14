"""Rich terminal rendering of an Analysis: the report's sections as panels and tables.

The content comes from ``shipit.report.sections``; this module only lays it out (charts
are left to the HTML report and the dashboard).
"""

from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from shipit.report import sections as model
from shipit.result.model import Analysis

__all__ = ["render_terminal", "to_text"]

LIGHT_STYLE = {"green": "green", "yellow": "yellow", "red": "red"}
DECISION_STYLE = {
    "ship": "bold green",
    "ship_to_segment": "bold green",
    "iterate": "bold yellow",
    "roll_back": "bold red",
    "kill": "bold red",
    "halt": "bold red",
}


def _headline(h: model.Headline) -> Text:
    title = Text(h.words, style=DECISION_STYLE[h.decision])
    if h.variant:
        title.append(f"  {h.variant}", style="bold")
    if h.runner_up:
        title.append(f"   (runner-up {h.runner_up})")
    if h.segments:
        title.append(f"   segments: {', '.join(h.segments)}")
    return title


def _items_table(s: model.Section, columns: tuple[str, str]) -> Table:
    table = Table(title=s.title, expand=True)
    table.add_column("", width=3)
    table.add_column(columns[0])
    table.add_column(columns[1], overflow="fold")
    for i in s.items:
        light = Text("●", style=LIGHT_STYLE[i.light]) if i.light else Text("")
        table.add_row(light, i.label or "", i.text)
    return table


def _table(t: model.Table, title: str) -> Table:
    out = Table(title=title, expand=True)
    last = len(t.columns) - 1
    for n, c in enumerate(t.columns):
        if c.numeric:
            out.add_column(c.name, justify="right", overflow="fold")
        else:  # names stay whole; only a trailing text column (free prose) wraps
            out.add_column(c.name, no_wrap=n != last, overflow="fold")
    for row in t.rows:
        out.add_row(*row)
    return out


def _section(report: model.Report, s: model.Section) -> list[RenderableType]:
    parts: list[RenderableType] = []
    if s.headline is not None or (s.items and s.item_columns is None):
        lines: list[RenderableType] = [] if s.headline is None else [_headline(s.headline)]
        lines.append(Text("\n".join(f"• {i.text}" for i in s.items)))
        title = f"{report.title} · {s.title.lower()}" if s.headline is not None else s.title
        parts.append(Panel(Group(*lines), title=title, expand=True))
    elif s.items and s.item_columns is not None:
        parts.append(_items_table(s, s.item_columns))
    titled = bool(parts)  # the section's title is already shown above the tables
    for t in s.tables:
        if titled:
            title = t.caption or ""
        else:
            title = f"{s.title}: {t.caption}" if t.caption else s.title
            titled = True
        parts.append(_table(t, title))
    parts += [Text(note) for note in s.notes]
    return parts


def _renderable(a: Analysis) -> Group:
    report = model.build_report(a)
    return Group(*(part for s in report.sections for part in _section(report, s)))


def render_terminal(analysis: Analysis, console: Console | None = None) -> None:
    """Print the analysis to a rich console (stdout by default)."""
    (console or Console()).print(_renderable(analysis))


def to_text(analysis: Analysis, *, width: int = 120) -> str:
    """The terminal rendering as plain text (for tests, logs and ``--out`` files)."""
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(_renderable(analysis))
    return console.export_text()
