"""The histogram of a shadow run's per-request differences, as a Plotly bar chart."""

from __future__ import annotations

import plotly.graph_objects as go

from shipit.result import format as fmt
from shipit.result.model import Analysis

__all__ = ["SHADOW_CHART", "shadow_differences_chart"]

SHADOW_CHART = "shadow_differences"


def shadow_differences_chart(a: Analysis) -> go.Figure | None:
    """Requests per bin of the difference (candidate − production score, or overlap)."""
    d = a.shadow.difference if a.shadow is not None else None
    if d is None or not d.counts:
        return None
    edges = d.edges
    mids = [(edges[i] + edges[i + 1]) / 2 for i in range(len(d.counts))]
    widths = [edges[i + 1] - edges[i] or 1.0 for i in range(len(d.counts))]
    labels = [
        f"[{fmt.num(edges[i])}, {fmt.num(edges[i + 1])}]: {fmt.count(c)} requests"
        for i, c in enumerate(d.counts)
    ]
    fig = go.Figure(
        go.Bar(
            x=mids,
            y=list(d.counts),
            width=widths,
            marker_color="#636efa",
            hovertext=labels,
            hoverinfo="text",
            name="requests",
        )
    )
    mean = d.mean.estimate
    if mean is not None:
        fig.add_vline(x=mean, line_dash="dash", line_color="#ef553b")
    fig.update_layout(
        title_text=f"Distribution of the {d.measure}",
        xaxis_title=d.measure,
        yaxis_title="requests",
        showlegend=False,
        bargap=0.02,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 90, "b": 40},
    )
    return fig
