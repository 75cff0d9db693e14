"""Cumulative daily moments without pairing every unit with every day.

A unit's cumulative value only changes on days it has events (and it enters the sums on
its exposure day). So per unit we keep one row per such day, take running aggregates over
those rows, and turn every moment term (1, z_a, z_a·z_b) into its change since the unit's
previous row. Summing the changes per (variant, day) and then cumulating over days gives
Σ over exposed units of each term at the end of every day, exactly: Σy² of cumulative
values is the cumsum of the per-unit changes of y², not of per-day Σy².

Only decomposable aggregations qualify (sum, count, max, any); count_distinct keeps the
dense units × days plan. Winsorized metrics are capped at the whole period's caps, given
as values, so a unit's capped value is still a function of its running value alone.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Partial", "daily_ctes"]


@dataclass(frozen=True)
class Partial:
    """One per-unit aggregate: ``alias``, ``aggregation``, its event filter ``when`` and
    ``value``; ``cumulative`` metrics grow by day, covariates are the unit's total."""

    alias: str
    aggregation: str
    when: str
    value: str
    cumulative: bool


def _partial_sql(p: Partial) -> str:
    """The aggregate over one unit-day's events (NULL when nothing matched)."""
    if p.aggregation == "sum":
        return f"CAST(SUM(CASE WHEN {p.when} THEN {p.value} END) AS DOUBLE) AS {p.alias}"
    if p.aggregation == "count":
        return f"CAST(COUNT(CASE WHEN {p.when} THEN 1 END) AS DOUBLE) AS {p.alias}"
    if p.aggregation == "max":
        return f"CAST(MAX(CASE WHEN {p.when} THEN {p.value} END) AS DOUBLE) AS {p.alias}"
    return f"CAST(MAX(CASE WHEN {p.when} THEN 1 END) AS DOUBLE) AS {p.alias}"  # any


def _combine(p: Partial) -> str:
    fn = "SUM" if p.aggregation in ("sum", "count") else "MAX"
    return f"{fn}({p.alias}) AS {p.alias}"


def daily_ctes(
    partials: list[Partial],
    unit_columns: list[str],
    terms: list[tuple[str, str]],
    events: str,
    on: list[str],
    ts: str,
) -> list[tuple[str, str]]:
    """CTEs from ``exposed`` and ``days`` to ``moments`` (variant, day, n, sums).

    ``unit_columns`` are aliases of per-unit constants carried on ``exposed``; ``terms``
    are (result column, SQL over the per-unit values) for every moment sum but n.
    """
    day_of = f"GREATEST(CAST(ev.{ts} AS DATE), CAST(u.first_ts AS DATE))"
    consts = [f"MAX(u.{c}) AS {c}" for c in unit_columns]
    nulls = [f"CAST(NULL AS DOUBLE) AS {p.alias}" for p in partials]
    ctes: list[tuple[str, str]] = []
    ctes.append(
        (
            "unit_days",
            # Events before the exposure day count from the exposure day on.
            f"SELECT u.unit_id, {day_of} AS day, MAX(u.variant) AS variant, "
            + ", ".join(consts + [_partial_sql(p) for p in partials])
            + f" FROM exposed u JOIN {events} ev ON {' AND '.join(on)} GROUP BY 1, 2"
            " UNION ALL "
            "SELECT unit_id, CAST(first_ts AS DATE) AS day, variant, "
            + ", ".join([f"{c}" for c in unit_columns] + nulls)
            + " FROM exposed",
        )
    )
    ctes.append(
        (
            "unit_steps",
            "SELECT unit_id, day, MAX(variant) AS variant, "
            + ", ".join(f"MAX({c}) AS {c}" for c in unit_columns)
            + (", " if unit_columns else "")
            + ", ".join(_combine(p) for p in partials)
            + " FROM unit_days GROUP BY unit_id, day",
        )
    )
    run = (
        "OVER (PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    )
    values = []
    for p in partials:
        fn = "SUM" if p.aggregation in ("sum", "count") else "MAX"
        window = run if p.cumulative else "OVER (PARTITION BY unit_id)"
        values.append(f"COALESCE({fn}({p.alias}) {window}, 0) AS {p.alias}")
    values += [f"CAST(COALESCE({c}, 0) AS DOUBLE) AS {c}" for c in unit_columns]
    ctes.append(
        ("unit_values", f"SELECT unit_id, day, variant, {', '.join(values)} FROM unit_steps")
    )
    all_terms = [("n", "1"), *terms]
    prev = "OVER (PARTITION BY unit_id ORDER BY day)"
    ctes.append(
        (
            "unit_changes",
            "SELECT variant, day, "
            + ", ".join(
                f"({sql}) - COALESCE(LAG({sql}) {prev}, 0) AS {name}" for name, sql in all_terms
            )
            + " FROM unit_values",
        )
    )
    ctes.append(
        (
            "day_changes",
            "SELECT variant, day, "
            + ", ".join(f"SUM({name}) AS {name}" for name, _ in all_terms)
            + " FROM unit_changes GROUP BY variant, day",
        )
    )
    # Every variant on every day, so days without activity still carry the running sums.
    cum = run.replace("unit_id", "g.variant").replace("BY day", "BY g.day")
    ctes.append(
        (
            "day_sums",
            "SELECT g.variant, g.day, "
            + ", ".join(f"SUM(COALESCE(c.{name}, 0)) {cum} AS {name}" for name, _ in all_terms)
            + " FROM (SELECT v.variant, d.day FROM (SELECT DISTINCT variant FROM day_changes) v "
            "CROSS JOIN days d) g "
            "LEFT JOIN day_changes c ON c.variant = g.variant AND c.day = g.day",
        )
    )
    ctes.append(("moments", "SELECT * FROM day_sums WHERE n > 0"))
    return ctes
