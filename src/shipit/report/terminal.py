"""Rich terminal renderings of stats results and power plans."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from shipit.report.stats_extras import bayesian_tables, cuped_table, sequential_table
from shipit.result.format import interval, num, p_equals, p_value, pct, points

__all__ = ["render_power_at_n", "render_power_plan", "render_stats"]


def render_stats(summary: Mapping[str, Any]) -> RenderableType:
    """The ``shipit stats`` JSON: SRM line, one row per comparison, then method blocks."""
    parts: list[RenderableType] = []
    srm = summary.get("srm")
    if srm is not None:
        style = "bold red" if srm["mismatch"] else "green"
        verdict = "MISMATCH: do not trust the effects" if srm["mismatch"] else "ok"
        parts.append(
            Text(
                f"SRM: χ² = {num(srm['chi2'])}, {p_equals(srm['p_value'])} → {verdict}",
                style=style,
            )
        )
    alpha = summary.get("alpha", 0.05)
    conf = 100 * (1 - alpha)
    table = Table(
        title=f"{points(conf)} intervals · correction: {summary.get('correction', 'none')}",
        title_justify="left",
    )
    table.add_column("metric", no_wrap=True)
    table.add_column("variant", no_wrap=True)
    for col in ("n", "control", "variant"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("abs effect [interval]", justify="right")
    table.add_column("rel effect [interval]", justify="right")
    table.add_column("p (adj)", justify="right")
    table.add_column("sig", justify="center")
    table.add_column("status")
    for r in summary["results"]:
        abs_ci = interval(r["abs_ci_low"], r["abs_ci_high"], num)
        rel_ci = interval(r["rel_ci_low"], r["rel_ci_high"])
        table.add_row(
            r["metric"],
            r["variant"],
            f"{num(r['n_control'])}\n{num(r['n_variant'])}",
            num(r["mean_control"]),
            num(r["mean_variant"]),
            f"{num(r['abs_effect'])}\n{abs_ci}",
            f"{pct(r['rel_effect'])}\n{rel_ci}",
            f"{p_value(r['p_value'], alpha)}\n({p_value(r['p_value_adjusted'], alpha)})",
            Text("yes", style="bold green") if r["significant"] else Text("no"),
            Text(r["status"], style="" if r["status"] == "ok" else "yellow"),
        )
    parts.append(table)
    results = summary["results"]
    for extra in (cuped_table(results), sequential_table(results)):
        if extra is not None:
            parts.append(extra)
    parts.extend(bayesian_tables(results, summary.get("metrics") or []))
    return Group(*parts)


def render_power_plan(plan: Mapping[str, Any]) -> RenderableType:
    """A sample-size plan as a two-column table."""
    table = Table(show_header=False, title="sample size plan", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    labels = {
        "kind": "metric kind",
        "per_variant": "units per variant",
        "total": "units in total",
        "variants": "variants",
        "alpha": "alpha",
        "alpha_per_comparison": "alpha per comparison",
        "power": "power",
        "mde_absolute": "mde (absolute)",
        "mde_relative": "mde (relative)",
        "days": "days",
    }
    for key, label in labels.items():
        value = plan.get(key)
        if key == "days" and value is None:
            continue
        if isinstance(value, str):
            text = value
        else:
            text = pct(value) if key == "mde_relative" else num(value, 6)
        table.add_row(label, text)
    return table


def render_power_at_n(result: Mapping[str, Any]) -> RenderableType:
    """The MDE at n units per variant, or the power achieved there, as a two-column table."""
    solve = result.get("solve", "mde")
    title = "minimum detectable effect at n" if solve == "mde" else "power at n"
    table = Table(show_header=False, title=title, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    rows = [
        ("metric kind", str(result["kind"])),
        ("units per variant", num(result["per_variant"], 8)),
        ("units in total", num(result["total"], 8)),
        ("variants", num(result["variants"])),
        ("alpha per comparison", num(result["alpha_per_comparison"], 6)),
        ("alternative", str(result["alternative"])),
        ("mde (absolute)", num(result["mde_absolute"], 6)),
        ("mde (relative)", pct(result["mde_relative"])),
        ("power", num(result["power"], 6)),
    ]
    for label, text in rows:
        style = "bold green" if label.startswith(solve) else ""
        table.add_row(label, Text(text, style=style))
    return table
