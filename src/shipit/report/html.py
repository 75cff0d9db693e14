"""One self-contained HTML file per analysis: the report's sections, Plotly charts inline.

The content comes from ``shipit.report.sections`` through the shared ``sections.html.j2``
partial (the dashboard includes the same one). Nothing is fetched at view time, so the
file opens offline and can be attached to a decision record.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from shipit.report.charts import CONFIG, all_charts
from shipit.report.sections import build_report
from shipit.result.model import Analysis

__all__ = ["render_html", "write_html"]


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("shipit.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


def _chart(name: str, div: str) -> Markup:
    """A Plotly figure's div (drawn by the inline plotly.js) in its chart box."""
    return Markup('<div class="chart" id="chart-{0}" data-chart="{0}">{1}</div>').format(
        name, Markup(div)
    )


def render_html(analysis: Analysis) -> str:
    """The report as one HTML document with every chart the analysis has data for."""
    charts = {
        name: _chart(
            name,
            fig.to_html(
                full_html=False, include_plotlyjs=False, div_id=f"plot-{name}", config=CONFIG
            ),
        )
        for name, fig in all_charts(analysis).items()
    }
    return (
        _env()
        .get_template("report.html.j2")
        .render(report=build_report(analysis), charts=charts, plotly_js=get_plotlyjs())
    )


def write_html(analysis: Analysis, path: str | Path) -> Path:
    """Write the report to ``path`` and return it."""
    out = Path(path)
    out.write_text(render_html(analysis), encoding="utf-8")
    return out
