"""One self-contained HTML file per analysis: Jinja2 layout, Plotly charts, plotly.js inline.

Nothing is fetched at view time, so the file opens offline and can be attached to a
decision record.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from plotly.offline import get_plotlyjs

from shipit.report.charts import all_charts
from shipit.report.summaries import DECISION_WORDS, summaries
from shipit.result.model import Analysis

__all__ = ["render_html", "write_html"]


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("shipit.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


def _pct(x: float | None, signed: bool = True) -> str:
    if x is None:
        return "–"
    return f"{x:+.2%}" if signed else f"{x:.1%}"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.4g}"


def _p(x: float | None) -> str:
    return "–" if x is None else "<1e-300" if x == 0 else f"{x:.2g}"


def render_html(analysis: Analysis) -> str:
    """The report as one HTML document with every chart the analysis has data for."""
    charts = {
        name: fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"plot-{name}")
        for name, fig in all_charts(analysis).items()
    }
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            a=analysis,
            charts=charts,
            audiences=summaries(analysis),
            decision_words=DECISION_WORDS,
            plotly_js=get_plotlyjs(),
            pct=_pct,
            num=_num,
            p=_p,
        )
    )


def write_html(analysis: Analysis, path: str | Path) -> Path:
    """Write the report to ``path`` and return it."""
    out = Path(path)
    out.write_text(render_html(analysis), encoding="utf-8")
    return out
