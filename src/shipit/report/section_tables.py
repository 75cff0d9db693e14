"""The tables of the report's sections: effects, segments, heterogeneity, daily, power, rollout.

Each builder takes the analysis' typed rows and returns a ``Table`` of strings written
through ``shipit.result.format``, so no renderer writes a number itself. Columns that no
row fills (CUPED when nothing was adjusted, P(better) outside Bayesian runs) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipit.result import format as fmt
from shipit.result.model import (
    DailyEffect,
    Effect,
    Estimate,
    FunnelStep,
    Heterogeneity,
    PowerInfo,
    RolloutStep,
    SegmentEffect,
)

__all__ = [
    "Column",
    "Table",
    "daily",
    "effects",
    "heterogeneity",
    "power",
    "rollout",
    "segments",
]


@dataclass(frozen=True)
class Column:
    """A column's heading; numeric columns are right-aligned."""

    name: str
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    """Columns and rows of pre-written cells, with an optional caption above."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str | None = None


def _table(
    columns: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]], caption: str | None = None
) -> Table:
    return Table(
        tuple(Column(name, numeric) for name, numeric in columns),
        tuple(tuple(r) for r in rows),
        caption,
    )


def _lift(e: Estimate | None, alpha: float | None = None) -> list[str]:
    """Relative effect, its interval and p-value (dashes when there is no estimate)."""
    if e is None:
        return [fmt.MISSING] * 3
    return [
        fmt.pct(e.rel_effect),
        fmt.interval(e.rel_ci_low, e.rel_ci_high),
        fmt.p_value(e.p_value, alpha),
    ]


def effects(rows: Sequence[Effect], alpha: float | None = None) -> Table:
    """One row per metric and variant: raw lift, CUPED-adjusted lift, P(better).

    Given the plan's ``alpha``, the caption states the intervals' level (1 − α), which
    differs from the guardrail lights' (1 − 2α).
    """
    cuped = any(e.adjusted is not None for e in rows)
    bayes = any(e.prob_better is not None for e in rows)
    cols = [("metric", False), ("variant", False)]
    cols += [("raw lift", True), ("raw interval", True), ("p", True)]
    if cuped:
        cols += [("CUPED lift", True), ("CUPED interval", True), ("p (CUPED)", True)]
    reduced = any(e.cuped is not None for e in rows)
    if reduced:
        cols.append(("variance reduction", True))
    if bayes:
        cols.append(("P(better)", True))
    out = []
    for e in rows:
        cells = [e.metric, e.variant, *_lift(e.raw, alpha)]
        if cuped:
            cells += _lift(e.adjusted, alpha)
        if reduced:
            cells.append(fmt.share(e.cuped.variance_reduction) if e.cuped else fmt.MISSING)
        if bayes:
            cells.append(fmt.share(e.prob_better))
        out.append(cells)
    caption = None
    if alpha is not None:
        caption = (
            f"Relative effects with {fmt.share(1 - alpha, 0)} intervals; guardrail lights "
            f"use {fmt.share(1 - 2 * alpha, 0)} intervals (two one-sided tests at α)"
        )
    return _table(cols, out, caption)


def segments(rows: Sequence[SegmentEffect], alpha: float | None = None) -> Table:
    """Each segment's effect with its interval, p-value and the corrected p-value."""
    cols = [("metric", False), ("dimension", False), ("segment", False), ("variant", False)]
    cols += [("units", True), ("lift", True), ("interval", True), ("p", True), ("p (adj)", True)]
    out = [
        [
            s.metric,
            s.dimension,
            fmt.segment(s.segment),
            s.variant,
            f"{fmt.count(s.n_control)} / {fmt.count(s.n_variant)}",
            *_lift(s.estimate, alpha),
            fmt.p_value(s.estimate.p_value_adjusted, alpha),
        ]
        for s in rows
    ]
    return _table(cols, out, "Segment effects")


def heterogeneity(rows: Sequence[Heterogeneity], alpha: float | None = None) -> Table:
    """Cochran's Q per dimension: do the segment effects differ at all?"""
    cols = [("metric", False), ("dimension", False), ("variant", False), ("Q", True)]
    cols += [("df", True), ("p", True), ("I²", True), ("strongest", False), ("weakest", False)]
    out = [
        [
            h.metric,
            h.dimension,
            h.variant,
            fmt.fixed(h.q),
            fmt.count(h.df),
            fmt.p_value(h.p_value, alpha),
            fmt.share(h.i_squared, 0),
            fmt.MISSING if h.strongest is None else fmt.segment(h.strongest),
            fmt.MISSING if h.weakest is None else fmt.segment(h.weakest),
        ]
        for h in rows
    ]
    return _table(cols, out, "Heterogeneity (Cochran's Q)")


def daily(rows: Sequence[DailyEffect]) -> Table:
    """Per metric and variant, the cumulative effect on the latest day and its bounds."""
    groups: dict[tuple[str, str], list[DailyEffect]] = {}
    for d in rows:
        groups.setdefault((d.metric, d.variant), []).append(d)
    cols = [("metric", False), ("variant", False), ("days", True), ("through", True)]
    cols += [("units", True), ("lift", True), ("interval", True), ("p", True)]
    cols.append(("sequential bounds", True))
    out = []
    for (metric, variant), days in groups.items():
        last = max(days, key=lambda d: d.day)
        out.append(
            [
                metric,
                variant,
                fmt.count(len(days)),
                last.date or f"day {fmt.count(last.day)}",
                f"{fmt.count(last.n_control)} / {fmt.count(last.n_variant)}",
                *_lift(last.estimate),
                fmt.interval(last.bound_low, last.bound_high),
            ]
        )
    return _table(cols, out, "Latest cumulative effect")


def funnel_steps(rows: Sequence[FunnelStep]) -> Table:
    """Per funnel metric, variant and step: units reaching it, their share of the exposed
    units and the conversion from the step before, each with its interval."""
    cols = [("metric", False), ("variant", False), ("step", False), ("reached", True)]
    cols += [("share of units", True), ("interval", True)]
    cols += [("conversion from previous", True), ("interval", True)]
    out = [
        [
            r.metric,
            r.variant,
            f"{r.step}. {r.event}",
            f"{fmt.count(r.reached)} / {fmt.count(r.units)}",
            fmt.share(r.rate),
            fmt.interval(r.rate_ci_low, r.rate_ci_high, fmt.share),
            fmt.share(r.conversion),
            fmt.interval(r.conversion_ci_low, r.conversion_ci_high, fmt.share),
        ]
        for r in rows
    ]
    return _table(cols, out, "Funnel steps (in order, within the metric window)")


def power(rows: Sequence[PowerInfo]) -> Table:
    """The achieved sample against the plan, and what more it would take."""
    cols = [("metric", False), ("MDE", True), ("units per variant", True), ("needed", True)]
    cols += [("power achieved", True), ("reachable MDE", True), ("more units", True)]
    cols.append(("more days", True))
    out = [
        [
            p.metric,
            fmt.magnitude(p.mde, relative=p.relative),
            fmt.count(p.units_per_variant),
            fmt.count(p.needed_units_per_variant),
            fmt.share(p.achieved_power, 0),
            fmt.magnitude(p.reachable_mde, relative=p.relative),
            fmt.count(p.extra_units),
            fmt.count(p.extra_days),
        ]
        for p in rows
    ]
    return _table(cols, out)


def rollout(steps: Sequence[RolloutStep]) -> Table:
    """The staged rollout: traffic, minimum days and what rolls each step back."""
    cols = [("step", True), ("traffic", True), ("at least", True), ("roll back if", False)]
    out = [
        [
            fmt.count(i),
            fmt.points(s.percent),
            f"{fmt.count(s.min_days)} days",
            "; ".join(s.rollback_if),
        ]
        for i, s in enumerate(steps, 1)
    ]
    return _table(cols, out)
