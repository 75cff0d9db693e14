"""Plotly figures of a bandit: the weights each allocation period served, and each
variant's inverse-propensity mean with its interval beside the (biased) plain mean.

Each returns ``None`` when the analysis has no bandit part to draw
(``shipit.report.sections.CHART_NEEDS`` decides).
"""

from __future__ import annotations

from datetime import datetime

import plotly.graph_objects as go

from shipit.report.chart_style import CONTROL_COLOR, LAYOUT, color_of
from shipit.report.sections import CHART_NEEDS
from shipit.result import format as fmt
from shipit.result.bandit import BanditResult
from shipit.result.model import Analysis

__all__ = ["bandit_estimates_chart", "bandit_weights_chart"]


def _colors(a: Analysis, b: BanditResult) -> dict[str, str]:
    """Each arm's colour: the control grey, a treatment its colour in every other chart."""
    others = [arm.variant for arm in b.arms if arm.variant != a.control]
    return {
        arm.variant: CONTROL_COLOR
        if arm.variant == a.control
        else color_of(a, arm.variant, others.index(arm.variant))
        for arm in b.arms
    }


def _starts(b: BanditResult) -> list[datetime] | None:
    """The periods' start times, or None when they carry none (a spec's single period)."""
    try:
        starts = [datetime.fromisoformat(p.started_at) for p in b.periods]
    except ValueError:
        return None
    return None if any(s.year <= 1970 for s in starts) else starts


def bandit_weights_chart(a: Analysis) -> go.Figure | None:
    """The weight each period gave each variant, as steps from the period's start."""
    if not CHART_NEEDS["bandit_weights"](a) or a.bandit is None:
        return None
    b = a.bandit
    starts = _starts(b)
    x: list[datetime] | list[int] = starts if starts is not None else [p.number for p in b.periods]
    colors = _colors(a, b)
    fig = go.Figure()
    for arm in b.arms:
        v = arm.variant
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[p.weights.get(v) for p in b.periods],
                mode="lines+markers",
                line={"shape": "hv", "color": colors[v]},
                marker={"color": colors[v]},
                name=v,
                customdata=[[p.number, p.units.get(v, 0)] for p in b.periods],
                hovertemplate=f"{v}: %{{y:.1%}}<br>period %{{customdata[0]}}, "
                "%{customdata[1]} units<extra></extra>",
            )
        )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    if starts is not None:
        fig.update_xaxes(title_text="period start (UTC)")
    else:
        fig.update_xaxes(title_text="period", dtick=1)
    fig.update_layout(title=f"Bandit allocation per period ({b.policy})", **LAYOUT)
    return fig


def bandit_estimates_chart(a: Analysis) -> go.Figure | None:
    """Each variant's inverse-propensity mean with its interval, and its plain mean."""
    if not CHART_NEEDS["bandit_estimates"](a) or a.bandit is None:
        return None
    b = a.bandit
    colors = _colors(a, b)
    level = fmt.share(1 - b.alpha, 0)
    fig = go.Figure()
    for arm in b.arms:
        if arm.mean is None:
            continue
        hi = arm.ci_high - arm.mean if arm.ci_high is not None else None
        lo = arm.mean - arm.ci_low if arm.ci_low is not None else None
        fig.add_trace(
            go.Scatter(
                x=[arm.variant],
                y=[arm.mean],
                mode="markers",
                name=f"{arm.variant} (IPW)",
                marker={"color": colors[arm.variant], "size": 11},
                error_y={"type": "data", "symmetric": False, "array": [hi], "arrayminus": [lo]},
            )
        )
    plain = [arm for arm in b.arms if arm.naive_mean is not None]
    if plain:
        fig.add_trace(
            go.Scatter(
                x=[arm.variant for arm in plain],
                y=[arm.naive_mean for arm in plain],
                mode="markers",
                name="plain mean (biased)",
                marker={"symbol": "x-thin-open", "size": 10, "color": "#333"},
            )
        )
    fig.update_xaxes(type="category")
    fig.update_layout(title=f"Bandit: {b.reward} by variant, IPW with {level} intervals", **LAYOUT)
    return fig
