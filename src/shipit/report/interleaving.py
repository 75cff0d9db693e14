"""The report section of an interleaving experiment: the preference between the two
rankers, the counts behind it and the sessions an A/B test would need instead."""

from __future__ import annotations

from shipit.report.section_tables import Column, Table
from shipit.report.sections import Item, Section
from shipit.result import format as fmt
from shipit.result.model import Analysis

__all__ = ["interleaving_section"]


def interleaving_section(a: Analysis) -> Section | None:
    """The ``interleaving`` section, or None for other experiments."""
    r = a.interleaving
    if r is None:
        return None
    level = fmt.share(1 - a.alpha, 0)
    rows = (
        (f"sessions preferring {r.variant}", fmt.share(r.preference)),
        (f"{level} interval (exact)", fmt.interval(r.ci_low, r.ci_high, fmt.share)),
        (
            f"{level} interval (clustered by unit)",
            fmt.interval(r.unit_ci_low, r.unit_ci_high, fmt.share),
        ),
        ("sign test p (two-sided)", fmt.p_value(r.p_value)),
        (f"wins {r.control} / {r.variant} / ties", _wins(r.wins_control, r.wins_variant, r.ties)),
        ("sessions / units", f"{fmt.count(r.sessions)} / {fmt.count(r.units)}"),
        ("Δ (wins difference per session)", fmt.signed(r.delta)),
    )
    table = Table(
        (Column("quantity"), Column("value", numeric=True)),
        tuple(rows),
        caption=f"{r.variant} (B) against {r.control} (A), team draft, credit by {r.credit}",
    )
    need = Table(
        (Column("design"), Column("sessions needed", numeric=True)),
        (
            ("interleaving", fmt.count(r.sessions_needed)),
            ("A/B test (both arms)", fmt.count(r.ab_sessions_needed)),
            ("A/B ÷ interleaving", fmt.fixed(r.ab_ratio, 1)),
        ),
        caption=(
            f"to detect the observed difference at α = {fmt.num(a.alpha)} with "
            f"{fmt.share(r.power, 0)} power"
        ),
    )
    items = (
        Item(
            f"{fmt.count(r.impressions)} impressions, {fmt.count(r.clicks_matched)} "
            f"{r.click_event} events on shown items within {r.click_window_minutes} minutes, "
            f"{fmt.count(r.clicks_outside_window)} outside that window, "
            f"{fmt.count(r.clicks_unmatched)} on items not shown",
            "logged",
        ),
    )
    notes = (
        "A session prefers the ranker whose items got more credited clicks; ties (no "
        "clicks, or as many each) count in neither. The A/B estimate takes the observed "
        "difference in credited clicks per session as the A/B effect and the variance of "
        "clicks per session as its noise (docs/interleaving.md).",
    )
    return Section(
        "interleaving",
        "Interleaving",
        items=items,
        item_columns=("what", "count"),
        tables=(table, need),
        notes=notes,
    )


def _wins(a: int, b: int, ties: int) -> str:
    return f"{fmt.count(a)} / {fmt.count(b)} / {fmt.count(ties)}"
