"""The analysis as Markdown, for pull requests, wikis and decision records.

The content comes from ``shipit.report.sections``; this module only writes it as
Markdown (headings, lists and tables; charts are left to the HTML report).
"""

from __future__ import annotations

from shipit.report import sections as model
from shipit.result.model import Analysis

__all__ = ["render_markdown"]

ICONS = {"green": "🟢", "yellow": "🟡", "red": "🔴"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _headline(h: model.Headline) -> str:
    return (
        f"**Verdict: {h.words}**"
        + (f" — `{h.variant}`" if h.variant else "")
        + (f" (runner-up `{h.runner_up}`)" if h.runner_up else "")
        + (f"; segments {', '.join(f'`{s}`' for s in h.segments)}" if h.segments else "")
    )


def _item(i: model.Item) -> str:
    lead = f"{ICONS[i.light]} " if i.light else ""
    label = f"**{i.label}**: " if i.label else ""
    return f"- {lead}{label}{i.text}"


def _table(t: model.Table) -> list[str]:
    out = [f"**{t.caption}**", ""] if t.caption else []
    out.append("| " + " | ".join(_cell(c.name) for c in t.columns) + " |")
    out.append("| " + " | ".join("---:" if c.numeric else "---" for c in t.columns) + " |")
    out += ["| " + " | ".join(_cell(x) for x in row) + " |" for row in t.rows]
    return out


def _section(s: model.Section) -> list[str]:
    out = ["", f"## {s.title}", ""]
    if s.headline is not None:
        out += [_headline(s.headline), ""]
    out += [_item(i) for i in s.items]
    for t in s.tables:
        out += ["", *_table(t)] if out[-1] != "" else _table(t)
    if s.notes:
        out += ["", *s.notes]
    return out


def render_markdown(a: Analysis) -> str:
    """A Markdown report: a title, the subtitle line, then every section in order."""
    report = model.build_report(a)
    out = [f"# {report.title}", "", report.subtitle]
    for s in report.sections:
        out += _section(s)
    return "\n".join(out) + "\n"
