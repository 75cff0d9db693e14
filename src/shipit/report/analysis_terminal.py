"""Rich terminal rendering of an Analysis: the report's sections as panels and tables.

The content comes from ``shipit.report.sections``; this module only lays it out (charts
are left to the HTML report and the dashboard).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType
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
    table.add_column(columns[0], no_wrap=True)
    table.add_column(columns[1], overflow="fold")
    for i in s.items:
        light = Text("●", style=LIGHT_STYLE[i.light]) if i.light else Text("")
        table.add_row(light, Text(i.label or ""), Text(i.text))
    return table


def _items_list(s: model.Section) -> Table:
    """The items for a narrow console: each label whole on its own line, its text below."""
    table = Table(title=s.title, expand=True, show_header=False)
    table.add_column("", overflow="fold")
    for n, i in enumerate(s.items):
        if n:
            table.add_section()
        head = Text("● " if i.light else "", style=LIGHT_STYLE[i.light] if i.light else "")
        head.append(i.label or "", style="bold")
        table.add_row(head)
        table.add_row(Text(i.text))
    return table


class _FittedItems:
    """A section's labelled items: a three-column table when every label fits whole
    beside at least 24 cells of text, a list when the console is narrower."""

    def __init__(self, section: model.Section, columns: tuple[str, str]) -> None:
        self.section, self.columns = section, columns

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Table]:
        label = max(
            [cell_len(self.columns[0]), *(cell_len(i.label or "") for i in self.section.items)]
        )
        fits = 3 + label + 24 + 3 * 3 + 1 <= options.max_width
        yield _items_table(self.section, self.columns) if fits else _items_list(self.section)


def _wide(t: model.Table, title: str) -> Table:
    """The table as it reads: one row per record; numbers and names are never broken."""
    out = Table(title=title, expand=True)
    last = len(t.columns) - 1
    for n, c in enumerate(t.columns):
        if c.numeric:  # an interval may wrap at its space
            out.add_column(c.name, justify="right", overflow="fold")
        else:  # only a trailing text column (free prose) wraps
            out.add_column(c.name, no_wrap=n != last, overflow="fold")
    for row in t.rows:
        out.add_row(*map(Text, row))
    return out


def _stacked(t: model.Table, title: str) -> Table:
    """The table for a narrow terminal: each record's text cells as a heading, then one
    line per number."""
    out = Table(title=title, expand=True, show_header=False)
    # the heading wraps at its separators but never cuts a name short (no "watch_…")
    out.add_column("", style="bold", overflow="fold")
    out.add_column("", justify="right", overflow="fold")
    for n, row in enumerate(t.rows):
        if n:
            out.add_section()
        head = " · ".join(x for c, x in zip(t.columns, row, strict=True) if not c.numeric)
        out.add_row(Text(head, style="bold"), "")
        for c, x in zip(t.columns, row, strict=True):
            if c.numeric:
                out.add_row(Text(f"  {c.name}"), Text(x))
    return out


class _Fitted:
    """A section table that lays itself out wide when it fits the console, stacked if not."""

    def __init__(self, table: model.Table, title: str) -> None:
        self.table, self.title = table, title

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Table]:
        fits = _min_width(self.table) <= options.max_width
        yield _wide(self.table, self.title) if fits else _stacked(self.table, self.title)


def _min_width(t: model.Table) -> int:
    """The width the wide layout needs without breaking a word: whole names, the longest
    word of numeric cells and headers, a trailing text column at least 12 wide, and the
    borders and padding (3 per column, 1 more)."""

    def word(text: str) -> int:
        return max((cell_len(w) for w in text.split()), default=0)

    widths = []
    last = len(t.columns) - 1
    for n, c in enumerate(t.columns):
        cells = [row[n] for row in t.rows]
        if c.numeric:
            widths.append(max([word(c.name), *map(word, cells)]))
        elif n == last:
            widths.append(max(word(c.name), 12))
        else:
            widths.append(max([word(c.name), *map(cell_len, cells)]))
    return sum(widths) + 3 * len(widths) + 1


def _section(report: model.Report, s: model.Section) -> list[RenderableType]:
    parts: list[RenderableType] = []
    if s.headline is not None or (s.items and s.item_columns is None):
        lines: list[RenderableType] = [] if s.headline is None else [_headline(s.headline)]
        lines.append(Text("\n".join(f"• {i.text}" for i in s.items)))
        title = f"{report.title} · {s.title.lower()}" if s.headline is not None else s.title
        parts.append(Panel(Group(*lines), title=title, expand=True))
    elif s.items and s.item_columns is not None:
        parts.append(_FittedItems(s, s.item_columns))
    titled = bool(parts)  # the section's title is already shown above the tables
    for t in s.tables:
        if titled:
            title = t.caption or ""
        else:
            title = f"{s.title}: {t.caption}" if t.caption else s.title
            titled = True
        parts.append(_Fitted(t, title))
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
