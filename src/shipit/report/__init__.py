"""Renderings of an analysis: rich terminal, self-contained HTML, Markdown, JSON, summaries.

Every rendering lays out the same sections (``shipit.report.sections``), whose numbers are
written by ``shipit.result.format``. The names load on first use, so that commands which
print only a table (``shipit power``, ``shipit stats``) skip Jinja and Plotly.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# imported here, not lazily: the module ``summaries`` would otherwise shadow the function
from shipit.report.summaries import summaries, summary

if TYPE_CHECKING:
    from shipit.report.analysis_terminal import render_terminal, to_text
    from shipit.report.html import render_html, write_html
    from shipit.report.markdown import render_markdown
    from shipit.report.sections import build_report
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

_HOMES = {
    "build_report": "shipit.report.sections",
    "from_json": "shipit.result.schema",
    "json_schema": "shipit.result.schema",
    "render_html": "shipit.report.html",
    "render_markdown": "shipit.report.markdown",
    "render_terminal": "shipit.report.analysis_terminal",
    "to_json": "shipit.result.schema",
    "to_text": "shipit.report.analysis_terminal",
    "write_html": "shipit.report.html",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
