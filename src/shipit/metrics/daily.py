"""Cumulative daily moments without pairing every unit with every day.

Two plans, both exact. When every cumulative window ends at most ``MAX_SPAN_DAYS`` days
after the exposure (``pivot_ctes``), one pass over each unit's events gives its cumulative
value at the end of each of those days as a column; the moment terms are summed per
exposure cohort and relative day and added up by calendar day, with no row per unit and
day and no window pass.

Otherwise (``daily_ctes``): a unit's cumulative value only changes on days it has events
(and it enters the sums on its exposure day). So per unit we keep one row per such day,
take running aggregates over those rows, and turn every moment term (1, z_a, z_a·z_b) into
its change since the unit's previous row. Summing the changes per (variant, day) and then
cumulating over days gives Σ over exposed units of each term at the end of every day,
exactly: Σy² of cumulative values is the cumsum of the per-unit changes of y², not of
per-day Σy².

Only decomposable aggregations qualify (sum, count, max, any); count_distinct keeps the
dense units × days plan. Winsorized metrics are capped at the whole period's caps, given
as values, so a unit's capped value is still a function of its running value alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MAX_SPAN_DAYS", "Partial", "daily_ctes", "pivot_ctes", "span_days"]


@dataclass(frozen=True)
class Partial:
    """One per-unit aggregate: ``alias``, ``aggregation``, its event filter ``when`` and
    ``value``; ``cumulative`` metrics grow by day, covariates are the unit's total."""

    alias: str
    aggregation: str
    when: str
    value: str
    cumulative: bool


def _partial_row(p: Partial) -> str:
    """One event's contribution to the unit-day aggregate (NULL when it does not match)."""
    value = "1" if p.aggregation in ("count", "any") else p.value
    return f"CASE WHEN {p.when} THEN {value} END AS {p.alias}"


def _partial_sql(p: Partial) -> str:
    """The aggregate over one unit-day's contributions (NULL when nothing matched)."""
    fn = {"sum": "SUM", "count": "COUNT", "max": "MAX"}.get(p.aggregation, "MAX")
    return f"CAST({fn}({p.alias}) AS DOUBLE) AS {p.alias}"


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

    A unit's change on a day is every term at its running values minus the same term at
    its running values of the previous row (taken in the same window pass, so no term is
    lagged one by one): the rows of both signs are summed per (variant, day).
    """
    day_of = f"GREATEST(CAST(ev.{ts} AS DATE), CAST(u.first_ts AS DATE))"
    nulls = [f"CAST(NULL AS DOUBLE) AS {p.alias}" for p in partials]
    ctes: list[tuple[str, str]] = []
    ctes.append(
        (
            "unit_days",
            # Events before the exposure day count from the exposure day on; every unit has
            # a row on its exposure day, with or without events. The unit's constants are
            # joined back after the window pass, which then sorts only what it sums.
            f"SELECT unit_id, day, {', '.join(_partial_sql(p) for p in partials)} FROM ("
            f"SELECT u.unit_id, {day_of} AS day, "
            + ", ".join(_partial_row(p) for p in partials)
            + f" FROM exposed u JOIN {events} ev ON {' AND '.join(on)}"
            " UNION ALL "
            "SELECT unit_id, CAST(first_ts AS DATE) AS day, "
            + ", ".join(nulls)
            + " FROM exposed) unit_events GROUP BY unit_id, day",
        )
    )
    order = "PARTITION BY unit_id ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND"
    run, before = f"OVER ({order} CURRENT ROW)", f"OVER ({order} 1 PRECEDING)"
    values, previous = [], []
    for p in partials:
        fn = "SUM" if p.aggregation in ("sum", "count") else "MAX"
        if p.cumulative:
            values.append(f"COALESCE({fn}({p.alias}) {run}, 0) AS {p.alias}")
            previous.append(f"COALESCE({fn}({p.alias}) {before}, 0) AS {p.alias}__prev")
        else:
            values.append(f"COALESCE({fn}({p.alias}) OVER (PARTITION BY unit_id), 0) AS {p.alias}")
    ctes.append(
        (
            "unit_running",
            f"SELECT unit_id, day, {', '.join(values + previous)}, "
            f"COUNT(*) {before} AS earlier FROM unit_days",
        )
    )
    running = [p.alias for p in partials] + [f"{p.alias}__prev" for p in partials if p.cumulative]
    ctes.append(
        (
            "unit_values",
            "SELECT r.unit_id, r.day, e.variant, "
            + ", ".join(
                [f"r.{c}" for c in running]
                + [f"CAST(COALESCE(e.{c}, 0) AS DOUBLE) AS {c}" for c in unit_columns]
            )
            + ", r.earlier FROM unit_running r JOIN exposed e ON e.unit_id = r.unit_id",
        )
    )
    # The previous row's values under the same names, so that every term reads them as is.
    prev_cols = [
        f"{p.alias}__prev AS {p.alias}" if p.cumulative else p.alias for p in partials
    ] + list(unit_columns)
    all_terms = [("n", "1"), *terms]
    now = ", ".join(f"{sql} AS {name}" for name, sql in all_terms)
    then = ", ".join(f"-({sql}) AS {name}" for name, sql in all_terms)
    ctes.append(
        (
            "unit_changes",
            f"SELECT variant, day, {now} FROM unit_values UNION ALL "
            f"SELECT variant, day, {then} FROM (SELECT variant, day, {', '.join(prev_cols)} "
            "FROM unit_values WHERE earlier > 0) unit_before",
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


# Days of a unit's cumulative values that the per-unit plan spells out as columns; a longer
# (or open-ended) window keeps the per-unit change plan above.
MAX_SPAN_DAYS = 62


def span_days(end_hours: list[float | None]) -> int | None:
    """Calendar days, counted from a unit's exposure day, on which its cumulative values can
    still change: the window ends are at most ``max(end)`` hours after an exposure made at
    most a day after that day's start. None when a window is open-ended."""
    if any(e is None for e in end_hours):
        return None
    widest = max((e for e in end_hours if e is not None), default=0.0)
    return max(0, math.ceil(widest / 24)) + 1


def pivot_ctes(
    partials: list[Partial],
    unit_columns: list[str],
    terms: Callable[[Callable[[str], str]], list[tuple[str, str]]],
    events: str,
    on: list[str],
    ts: str,
    span: int,
) -> list[tuple[str, str]]:
    """CTEs from ``exposed`` and ``days`` to ``moments`` with one row per unit, for windows
    that end ``span`` days after a unit's exposure day at the latest.

    A unit's cumulative value at the end of day ``k`` after its exposure day is its
    aggregate over the events of relative day ≤ k (events before the exposure day count
    from it on), and after ``span - 1`` days it is its whole-period value. So per unit one
    pass over its events gives every cumulative value as a column (no row per unit and
    day, no window pass); summing each moment term per (variant, exposure day) gives the
    cohorts' sums at every relative day, and a day's moments add every cohort exposed by
    then at its relative day. ``terms`` gives every moment sum but n as SQL over per-unit
    columns, each named by the function it is handed.
    """
    rel = f"GREATEST(DATE_DIFF('day', CAST(u.first_ts AS DATE), CAST(ev.{ts} AS DATE)), 0)"
    ctes: list[tuple[str, str]] = []
    ctes.append(
        (
            "unit_events",
            "SELECT u.unit_id, u.variant, CAST(u.first_ts AS DATE) AS entry, "
            + "".join(f"u.{c}, " for c in unit_columns)
            + f"{rel} AS rel_day, "
            + ", ".join(_partial_row(p) for p in partials)
            + f" FROM exposed u LEFT JOIN {events} ev ON {' AND '.join(on)}",
        )
    )
    last = span - 1
    values = []
    for p in partials:
        if not p.cumulative:
            values.append(f"{_running(p, None)} AS {p.alias}")
            continue
        values += [
            f"{_running(p, k if k < last else None)} AS {p.alias}__d{k}" for k in range(span)
        ]
    values += [f"CAST(COALESCE(MAX({c}), 0) AS DOUBLE) AS {c}" for c in unit_columns]
    ctes.append(
        (
            "unit_values",
            f"SELECT variant, entry, {', '.join(values)} FROM unit_events "
            "GROUP BY unit_id, variant, entry",
        )
    )
    cumulative = {p.alias for p in partials if p.cumulative}

    def at(k: int) -> list[tuple[str, str]]:
        return terms(lambda alias: f"{alias}__d{k}" if alias in cumulative else alias)

    per_day = [at(k) for k in range(span)]
    # Terms of per-unit constants only (covariates) are the same on every relative day.
    changing = [i for i, (_, sql) in enumerate(per_day[0]) if sql != per_day[-1][i][1]]
    sums = ["COUNT(*) AS n"]
    for i, (name, sql) in enumerate(per_day[0]):
        if i not in changing:
            sums.append(f"SUM({sql}) AS {name}")
        else:
            sums += [f"SUM({day[i][1]}) AS {name}__d{k}" for k, day in enumerate(per_day)]
    ctes.append(
        (
            "cohorts",
            f"SELECT variant, entry, {', '.join(sums)} FROM unit_values GROUP BY variant, entry",
        )
    )
    rel_day = f"LEAST(DATE_DIFF('day', c.entry, d.day), {last})"
    picked = ["SUM(c.n) AS n"]
    for i, (name, _) in enumerate(per_day[0]):
        if i not in changing:
            picked.append(f"SUM(c.{name}) AS {name}")
            continue
        cases = " ".join(f"WHEN {k} THEN c.{name}__d{k}" for k in range(span))
        picked.append(f"SUM(CASE {rel_day} {cases} END) AS {name}")
    ctes.append(
        (
            "moments",
            f"SELECT c.variant, d.day, {', '.join(picked)} FROM cohorts c "
            "JOIN days d ON d.day >= c.entry GROUP BY c.variant, d.day",
        )
    )
    return ctes


def _running(p: Partial, k: int | None) -> str:
    """The unit's aggregate over its contributions up to relative day ``k`` (all: None).

    Sums and counts multiply by the 0/1 of the day condition (exact for the finite values
    the loaders admit, and cheaper than a CASE per column); a maximum keeps the
    contributions of those days only. The last day takes every contribution.
    """
    if p.aggregation in ("sum", "count"):
        value = p.alias if k is None else f"{p.alias} * CAST(rel_day <= {k} AS DOUBLE)"
        return f"CAST(COALESCE(SUM({value}), 0) AS DOUBLE)"
    value = p.alias if k is None else f"CASE WHEN rel_day <= {k} THEN {p.alias} END"
    return f"CAST(COALESCE(MAX({value}), 0) AS DOUBLE)"
