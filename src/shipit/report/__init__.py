"""Renderings of an analysis: rich terminal, self-contained HTML, Markdown, JSON, summaries."""

from __future__ import annotations

from shipit.report.analysis_terminal import render_terminal, to_text
from shipit.report.html import render_html, write_html
from shipit.report.markdown import render_markdown
from shipit.report.summaries import summaries, summary
from shipit.result.schema import from_json, json_schema, to_json

__all__ = [
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
