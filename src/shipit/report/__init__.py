"""Renderings of an analysis: rich terminal, self-contained HTML, Markdown, JSON, summaries.

Every rendering lays out the same sections (``shipit.report.sections``), whose numbers are
written by ``shipit.result.format``. The names load on first use, so that commands which
print only a table (``shipit power``, ``shipit stats``) skip Jinja and Plotly.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (a fast start for the CLI)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, as if they were imported eagerly."""
    return sorted({*globals(), *__all__})


class _Package(ModuleType):
    """This package, where a public function keeps its name when the submodule of the same
    name is imported (``summaries``): importing a submodule sets it as an attribute of its
    package, which would hide the function that ``__getattr__`` serves."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _WHERE and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
