"""The content of the report's design section: what was randomized, over how many clusters,
blocks or strata, which variance the effects use and how far the unit-level one is off.

Plain data (labelled lines, one table, notes); ``report.sections`` lays it out.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipit.report.section_tables import Column, Table
from shipit.result import format as fmt
from shipit.result.design import DesignInfo

__all__ = ["DesignContent", "design_content"]

_RANDOMIZED = {
    "cluster": "whole clusters",
    "ego_cluster": "ego-network clusters of the graph",
    "switchback": "time blocks (region × interval)",
    "stratified": "units, balanced within strata",
    "blocked": "units, balanced within blocks",
}


@dataclass(frozen=True)
class DesignContent:
    """Labelled lines, the per-effect table and the notes of the design section."""

    lines: tuple[tuple[str, str], ...]
    table: Table | None
    notes: tuple[str, ...]


def _per_variant(counts: dict[str, int]) -> str:
    return ", ".join(f"{fmt.count(n)} {v}" for v, n in counts.items())


def design_content(d: DesignInfo) -> DesignContent:
    """The design section's content."""
    by = f" by {', '.join(d.by)}" if d.by else ""
    lines = [("randomized", f"{_RANDOMIZED[d.kind]}{by}")]
    if d.clusters is not None:
        lines.append(
            ("clusters", f"{fmt.count(sum(d.clusters.values()))} ({_per_variant(d.clusters)})")
        )
    if d.blocks is not None:
        lines.append(("blocks", f"{fmt.count(sum(d.blocks.values()))} ({_per_variant(d.blocks)})"))
    if d.interval_hours is not None:
        burn = fmt.num(d.burn_in_minutes or 0.0)
        lines.append(
            ("schedule", f"every {fmt.num(d.interval_hours)} h, burn-in {burn} min left out")
        )
    if d.strata is not None:
        lines.append(("strata", fmt.count(d.strata)))
    lines.append(("unit of analysis", d.unit_of_analysis))
    lines.append(("variance", d.variance))
    table = None
    if d.comparisons:
        rows = tuple(
            (
                c.metric,
                c.variant,
                fmt.num(c.se),
                fmt.num(c.naive_se),
                fmt.fixed(c.design_effect),
                fmt.p_value(c.naive_p_value),
            )
            for c in d.comparisons
        )
        columns = (
            Column("metric"),
            Column("variant"),
            Column("design se", numeric=True),
            Column("unit-level se", numeric=True),
            Column("design effect", numeric=True),
            Column("unit-level p", numeric=True),
        )
        caption = (
            "design effect = (design se / unit-level se)²; above 1 the naive test over-rejects"
        )
        table = Table(columns, rows, caption)
    notes = d.notes
    x = d.exposure
    if x is not None:
        for label, e in (("direct effect", x.direct), ("spillover effect", x.spillover),
                         ("total effect", x.total)):  # fmt: skip
            lines.append((label, f"{fmt.estimate(e.estimate, e.ci_low, e.ci_high, fmt.signed)} "
                                 f"({fmt.p_equals(e.p_value)})"))  # fmt: skip
        c = x.contrast
        lines.append((
            "mostly treated vs mostly control",
            f"{fmt.estimate(c.estimate, c.ci_low, c.ci_high, fmt.signed)} "
            f"({fmt.count(x.units_mostly_treated)} treated units with ≥ "
            f"{fmt.share(x.threshold, 0)} of neighbours treated, "
            f"{fmt.count(x.units_mostly_control)} control units with "
            f"≤ {fmt.share(1 - x.threshold, 0)})",
        ))  # fmt: skip
        notes = (*notes, (
            f"exposure analysis of {x.metric} over {fmt.count(x.clusters)} ego clusters: "
            "y ~ own treatment + share of treated neighbours, cluster-robust; the spillover "
            "effect is that of all neighbours treated against none, in the metric's unit"
        ))  # fmt: skip
    return DesignContent(tuple(lines), table, notes)
