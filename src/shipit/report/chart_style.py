"""What every Plotly chart of a report shares: colours, margins, the title's place, config."""

from __future__ import annotations

import plotly.graph_objects as go

from shipit.result.model import Analysis

__all__ = [
    "CONFIG",
    "CONTROL_COLOR",
    "LAYOUT",
    "LIGHT_COLORS",
    "PALETTE",
    "color_of",
    "frame",
    "tint",
]

# One colour per variant, the same in every chart (Plotly's default sequence).
PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692")
CONTROL_COLOR = "#7f7f7f"
"""The control's colour where it is drawn beside the treatments (the bandit's charts)."""
LIGHT_COLORS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828"}
# The toolbar (modebar) takes the top strip of a chart; the title sits below it, left, so
# the two never overlap however narrow the card, and the plot area starts below both.
_TOOLBAR = 34
LAYOUT = {
    "template": "plotly_white",
    "autosize": True,
    "margin": {"l": 60, "r": 20, "t": _TOOLBAR + 56, "b": 40},
}
_TITLE = {
    "x": 0,
    "xanchor": "left",
    "y": 1,
    "yref": "container",
    "yanchor": "top",
    "pad": {"t": _TOOLBAR + 2, "l": 12},
    "font": {"size": 16},
}
CONFIG = {
    "responsive": True,
    "displaylogo": False,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}
"""Plotly's config for every chart, in the HTML report and on the dashboard: sized to its
card on first paint and on every resize (``responsive``; no fixed width)."""


def color_of(a: Analysis, variant: str, n: int) -> str:
    """A variant's colour: its place among the analysis' treatments, else its place here."""
    others = [v for v in a.variants if v != a.control]
    k = others.index(variant) if variant in others else n
    return PALETTE[k % len(PALETTE)]


def tint(color: str, alpha: float = 0.2) -> str:
    """``color`` (``#rrggbb``) made translucent, for the interval band around its line."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def frame(fig: go.Figure) -> go.Figure:
    """Every chart's frame: the title below the toolbar, tick labels clear of each other."""
    fig.update_layout(title=_TITLE)
    fig.update_xaxes(automargin=True, ticklabelstandoff=6)
    fig.update_yaxes(automargin=True)
    return fig
