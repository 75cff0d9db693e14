"""Renderings of an analysis: rich terminal, self-contained HTML, Markdown, JSON, summaries.

Every rendering lays out the same sections (``shipit.report.sections``), whose numbers are
written by ``shipit.result.format``. The names load on first use, so that commands which
print only a table (``shipit power``, ``shipit stats``) skip Jinja and Plotly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipit._lazy import lazy_names

if TYPE_CHECKING:
    from shipit.report.analysis_terminal import render_terminal, to_text
    from shipit.report.html import render_html, write_html
    from shipit.report.markdown import render_markdown
    from shipit.report.sections import build_report
    from shipit.report.summaries import summaries, summary
    from shipit.result.schema import from_json, json_schema, to_json

__all__ = [
    "build_report",
    "from_json",
    "json_schema",
    "render_html",
    "render_markdown",
    "render_terminal",
    "summaries",
    "summary",
    "to_json",
    "to_text",
    "write_html",
]

# Each public name and the module that defines it; loaded on first use.
_WHERE: dict[str, str] = {
    "build_report": "shipit.report.sections",
    "from_json": "shipit.result.schema",
    "json_schema": "shipit.result.schema",
    "render_html": "shipit.report.html",
    "render_markdown": "shipit.report.markdown",
    "render_terminal": "shipit.report.analysis_terminal",
    "summaries": "shipit.report.summaries",
    "summary": "shipit.report.summaries",
    "to_json": "shipit.result.schema",
    "to_text": "shipit.report.analysis_terminal",
    "write_html": "shipit.report.html",
}


__getattr__, __dir__ = lazy_names(globals(), _WHERE)
