"""Plotly figures of an analysis: effects, cumulative effect, segments, guardrails, SRM,
balance, and a bandit's weights and estimates (``report.bandit_charts``).

Each returns ``None`` when the analysis has nothing to draw for it
(``shipit.report.sections.CHART_NEEDS`` decides), so a report never shows an empty chart.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from shipit.report.bandit_charts import bandit_estimates_chart, bandit_weights_chart
from shipit.report.chart_style import (
    CONFIG,
    LAYOUT,
    LIGHT_COLORS,
    PALETTE,
    color_of,
    frame,
    tint,
)
from shipit.report.sections import CHART_NEEDS, chart_names
from shipit.report.shadow_chart import SHADOW_CHART, shadow_differences_chart
from shipit.result import format as fmt
from shipit.result.model import Analysis, Estimate, TrustCheck

__all__ = ["CHARTS", "CONFIG", "PALETTE", "all_charts"]


def _number(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) else None


def _err(e: Estimate) -> tuple[float | None, float | None]:
    if e.rel_effect is None or e.rel_ci_low is None or e.rel_ci_high is None:
        return None, None
    return e.rel_ci_high - e.rel_effect, e.rel_effect - e.rel_ci_low


def effects_chart(a: Analysis) -> go.Figure | None:
    """Relative effect of every metric and variant with its interval, raw and adjusted."""
    if not CHART_NEEDS["effects"](a):
        return None
    fig = go.Figure()
    for label in ("raw", "CUPED-adjusted"):
        rows = [
            (e, est)
            for e in a.effects
            if (est := e.raw if label == "raw" else e.adjusted) is not None
        ]
        if not rows:
            continue
        errs = [_err(est) for _, est in rows]
        fig.add_trace(
            go.Scatter(
                x=[est.rel_effect for _, est in rows],
                y=[f"{e.metric} · {e.variant}" for e, _ in rows],
                mode="markers",
                name=label,
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [hi for hi, _ in errs],
                    "arrayminus": [lo for _, lo in errs],
                },
            )
        )
    fig.add_vline(x=0, line_dash="dot", line_color="#888")
    level = fmt.share(1 - a.alpha, 0)
    fig.update_layout(
        title=f"Effects with {level} intervals (relative)", xaxis_tickformat="+.1%", **LAYOUT
    )
    return fig


def cumulative_chart(a: Analysis) -> go.Figure | None:
    """The primary metric's cumulative effect over time, with the sequential bounds."""
    if not CHART_NEEDS["cumulative"](a):
        return None
    rows = sorted((d for d in a.daily if d.metric == a.primary), key=lambda d: (d.variant, d.day))
    fig = go.Figure()
    level = fmt.share(1 - a.alpha, 0)
    for n, v in enumerate(dict.fromkeys(d.variant for d in rows)):
        mine = [d for d in rows if d.variant == v]
        x = [d.date or d.day for d in mine]
        color = color_of(a, v, n)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[d.estimate.rel_ci_high for d in mine],
                mode="lines",
                line={"width": 0, "color": color},
                showlegend=False,
                hoverinfo="skip",
                legendgroup=v,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[d.estimate.rel_ci_low for d in mine],
                mode="lines",
                line={"width": 0, "color": color},
                fill="tonexty",
                fillcolor=tint(color),
                name=f"{v} {level} interval",
                legendgroup=v,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[d.estimate.rel_effect for d in mine],
                mode="lines+markers",
                line={"color": color},
                marker={"color": color},
                name=f"{v} effect",
                legendgroup=v,
            )
        )
        if any(d.bound_high is not None for d in mine):
            for side, ys in (
                ("upper", [d.bound_high for d in mine]),
                ("lower", [d.bound_low for d in mine]),
            ):
                fig.add_trace(
                    go.Scatter(
                        x=x,
                        y=ys,
                        mode="lines",
                        line={"dash": "dash", "color": color},
                        name=f"{v} {side} bound",
                        legendgroup=v,
                    )
                )
    if any(d.date for d in rows):
        fig.update_xaxes(tickformat="%b %d")
    fig.update_layout(title=f"Cumulative effect on {a.primary}", yaxis_tickformat="+.1%", **LAYOUT)
    return fig


def segments_chart(a: Analysis) -> go.Figure | None:
    """Effect of the primary metric in each segment, with intervals."""
    if not CHART_NEEDS["segments"](a):
        return None
    rows = [s for s in a.segments if s.metric == a.primary and s.estimate.rel_effect is not None]
    errs = [_err(s.estimate) for s in rows]
    fig = go.Figure(
        go.Scatter(
            x=[s.estimate.rel_effect for s in rows],
            y=[f"{s.dimension}={fmt.segment(s.segment)} · {s.variant}" for s in rows],
            mode="markers",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [h for h, _ in errs],
                "arrayminus": [lo for _, lo in errs],
            },
            name="segment effect",
        )
    )
    fig.add_vline(x=0, line_dash="dot", line_color="#888")
    fig.update_layout(title=f"Segment effects on {a.primary}", xaxis_tickformat="+.1%", **LAYOUT)
    return fig


def guardrails_chart(a: Analysis) -> go.Figure | None:
    """Each guardrail's estimate and interval against its margin, coloured by its light;
    one panel per guardrail metric, since their units differ."""
    if not CHART_NEEDS["guardrails"](a):
        return None
    metrics = list(dict.fromkeys(g.metric for g in a.guardrails))
    fig = make_subplots(rows=len(metrics), cols=1, subplot_titles=metrics, vertical_spacing=0.18)
    for row, metric in enumerate(metrics, start=1):
        for g in (g for g in a.guardrails if g.metric == metric):
            est = g.estimate if g.estimate is not None else 0.0
            hi = (g.ci_high - est) if g.ci_high is not None else None
            lo = (est - g.ci_low) if g.ci_low is not None else None
            limit = -g.margin if g.higher_is_better else g.margin
            fig.add_trace(
                go.Scatter(
                    x=[g.estimate],
                    y=[g.variant],
                    mode="markers",
                    name=f"{metric} · {g.variant}: {g.light}",
                    marker={"color": LIGHT_COLORS[g.light], "size": 14},
                    error_x={"type": "data", "symmetric": False, "array": [hi], "arrayminus": [lo]},
                    showlegend=False,
                ),
                row=row,
                col=1,
            )
            fig.add_trace(
                go.Scatter(
                    x=[limit],
                    y=[g.variant],
                    mode="markers",
                    name=f"{metric} margin",
                    marker={"symbol": "line-ns-open", "size": 24, "color": "#555"},
                    showlegend=False,
                ),
                row=row,
                col=1,
            )
        relative = all(g.relative for g in a.guardrails if g.metric == metric)
        fig.update_xaxes(tickformat="+.1%" if relative else "+~g", row=row, col=1)
    fig.update_layout(
        title=f"Guardrails: {fmt.share(1 - 2 * a.alpha, 0)} intervals, | the margin",
        height=max(360, 200 * len(metrics)),
        **LAYOUT,
    )
    return fig


def srm_chart(a: Analysis) -> go.Figure | None:
    """Observed units per variant against the planned split."""
    if not CHART_NEEDS["srm"](a):
        return None
    total = sum(a.units.values())
    wsum = sum(a.weights.values()) or 1.0
    names = list(a.units)
    fig = go.Figure(
        [
            go.Bar(x=names, y=[a.units[v] for v in names], name="observed"),
            go.Bar(
                x=names, y=[total * a.weights.get(v, 0.0) / wsum for v in names], name="planned"
            ),
        ]
    )
    srm = next((t for t in a.trust if t.name == "srm"), None)
    sub = (
        f" (χ² {fmt.p_equals(srm.p_value, alpha=0.001)})"
        if srm is not None and srm.p_value is not None
        else ""
    )
    fig.update_layout(title=f"Sample ratio{sub}", barmode="group", **LAYOUT)
    return fig


def _balance_checks(a: Analysis) -> list[tuple[str, TrustCheck]]:
    """(variant, balance check) for every variant: ``balance`` is the first variant's,
    ``balance_<variant>`` each other one's."""
    others = [v for v in a.variants if v != a.control]
    out = []
    for t in a.trust:
        if t.name == "balance" and others:
            out.append((others[0], t))
        elif t.name.startswith("balance_") and t.name.removeprefix("balance_") in others:
            out.append((t.name.removeprefix("balance_"), t))
    return out


def balance_chart(a: Analysis) -> go.Figure | None:
    """Relative difference of each pre-period covariate against control, per variant, with
    its 95% interval (an A/A view: chance alone puts 1 in 20 intervals off zero)."""
    if not CHART_NEEDS["balance"](a):
        return None
    fig = go.Figure()
    for n, (variant, check) in enumerate(_balance_checks(a)):
        d = check.details
        names = [k.removesuffix("_rel_diff") for k in d if k.endswith("_rel_diff")]
        y = [_number(d[f"{c}_rel_diff"]) for c in names]
        hi = [_number(d.get(f"{c}_rel_ci_high")) for c in names]
        lo = [_number(d.get(f"{c}_rel_ci_low")) for c in names]
        has_ci = all(v is not None for v in (*hi, *lo, *y))
        color = color_of(a, variant, n)
        fig.add_trace(
            go.Bar(
                x=names,
                y=y,
                name=f"{variant} vs {a.control}",
                marker_color=color,
                error_y=(
                    {
                        "type": "data",
                        "symmetric": False,
                        "array": [h - v for h, v in zip(hi, y, strict=True)],  # type: ignore[operator]
                        "arrayminus": [v - lo_ for lo_, v in zip(lo, y, strict=True)],  # type: ignore[operator]
                        "color": "#333",
                    }
                    if has_ci
                    else None
                ),
            )
        )
    fig.update_layout(
        title="Pre-period balance (95% intervals)",
        yaxis_tickformat="+.1%",
        barmode="group",
        **LAYOUT,
    )
    return fig


CHARTS = {
    "effects": effects_chart,
    "cumulative": cumulative_chart,
    "segments": segments_chart,
    "guardrails": guardrails_chart,
    "srm": srm_chart,
    "balance": balance_chart,
    "bandit_weights": bandit_weights_chart,
    "bandit_estimates": bandit_estimates_chart,
}


def all_charts(a: Analysis) -> dict[str, go.Figure]:
    """Every chart the analysis has data for, by name."""
    out = {}
    for name in chart_names(a):
        fig = CHARTS[name](a)
        if fig is not None:
            out[name] = frame(fig)
    shadow = shadow_differences_chart(a)  # a shadow run's only chart
    if shadow is not None:
        out[SHADOW_CHART] = frame(shadow)
    return out
