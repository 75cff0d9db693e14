"""The engine query of an interleaving experiment: credited clicks per session, then the
sums the statistics need (wins, ties, click moments; per-unit sums for clustering).

Impressions are the experiment's ``impression_event`` rows (``experiment``, ``session_id``,
``item_id``, ``ranker``, ``position``); a click is a ``click_event`` row with the
``session_id`` and ``item_id`` it was made on, joined to the impression of that item in
that session of the same unit. Only a click stamped from its impression to
``click_window_minutes`` after it credits a ranker; the others are counted apart for a trust
check. Everything is counted in one query; Python gets one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from shipit.errors import DataError
from shipit.spec.experiment import Experiment
from shipit.stats.interleaving import SessionSums, UnitSums
from shipit.store.engine import Engine
from shipit.store.sql import identifier, literal, transpile

__all__ = ["InterleavingCounts", "interleaving_counts", "interleaving_sql"]

IMPRESSION_COLUMNS = ("experiment", "session_id", "item_id", "ranker", "position")


@dataclass(frozen=True)
class InterleavingCounts:
    """What the engine counted: session and unit sums, impressions, credited-window clicks on
    shown items, clicks on sessions of the experiment that match no shown item, impression
    rows naming a ranker that is not a variant, and clicks on shown items stamped before
    their impression or after the click window."""

    sessions: SessionSums
    units: UnitSums
    impressions: int
    clicks_matched: int
    clicks_unmatched: int
    unknown_rankers: int
    clicks_outside_window: int = 0


def _start_literal(start: datetime) -> str:
    if start.tzinfo is not None:
        start = start.astimezone(UTC).replace(tzinfo=None)
    return f"TIMESTAMP {literal(start.strftime('%Y-%m-%d %H:%M:%S.%f'))}"


def interleaving_sql(
    experiment: Experiment, *, phase_start: datetime | None = None, table: str = "events"
) -> str:
    """The one query (DuckDB SQL) counting sessions, wins and clicks of ``experiment``."""
    block = experiment.interleaving
    if block is None:
        raise DataError(f"experiment {experiment.key!r} has no interleaving block")
    q = identifier
    a = literal(experiment.control_variant)
    b = literal(next(k for k in experiment.variant_keys if k != experiment.control_variant))
    since = f" AND {q('timestamp')} >= {_start_literal(phase_start)}" if phase_start else ""
    credit = "1" if block.credit.count == "items" else "c.n"
    top = block.credit.max_position
    shown = f" AND i.position <= {int(top)}" if top is not None else ""
    ev = q(table)
    ts = q("timestamp")
    window = f"INTERVAL '{int(block.click_window_minutes)}' MINUTE"
    return f"""
WITH imp AS (
  SELECT unit_id, session_id, item_id, MIN(ranker) AS ranker,
         MIN(CAST({q("position")} AS BIGINT)) AS position, MIN({ts}) AS shown_at
  FROM {ev}
  WHERE {q("event")} = {literal(block.impression_event)}
    AND {q("experiment")} = {literal(experiment.key)}{since}
  GROUP BY unit_id, session_id, item_id
),
raw AS (
  SELECT unit_id, session_id, item_id, {ts} AS clicked_at
  FROM {ev}
  WHERE {q("event")} = {literal(block.click_event)} AND session_id IS NOT NULL
),
clk AS (
  SELECT r.unit_id, r.session_id, r.item_id,
    SUM(CASE WHEN r.clicked_at >= i.shown_at AND r.clicked_at <= i.shown_at + {window}
        THEN 1 ELSE 0 END) AS n,
    SUM(CASE WHEN r.clicked_at >= i.shown_at AND r.clicked_at <= i.shown_at + {window}
        THEN 0 ELSE 1 END) AS outside
  FROM raw r JOIN imp i
    ON r.unit_id = i.unit_id AND r.session_id = i.session_id AND r.item_id = i.item_id
  GROUP BY r.unit_id, r.session_id, r.item_id
),
sess AS (
  SELECT i.unit_id, i.session_id,
    SUM(CASE WHEN i.ranker = {a} AND c.n > 0{shown} THEN {credit} ELSE 0 END) AS ca,
    SUM(CASE WHEN i.ranker = {b} AND c.n > 0{shown} THEN {credit} ELSE 0 END) AS cb,
    COUNT(*) AS shown,
    SUM(COALESCE(c.n, 0)) AS clicked,
    SUM(COALESCE(c.outside, 0)) AS outside,
    SUM(CASE WHEN i.ranker IN ({a}, {b}) THEN 0 ELSE 1 END) AS unknown
  FROM imp i LEFT JOIN clk c
    ON c.unit_id = i.unit_id AND c.session_id = i.session_id AND c.item_id = i.item_id
  GROUP BY i.unit_id, i.session_id
),
per_unit AS (
  SELECT unit_id,
    CAST(SUM(CASE WHEN cb > ca THEN 1 ELSE 0 END) AS DOUBLE) AS w,
    CAST(SUM(CASE WHEN cb <> ca THEN 1 ELSE 0 END) AS DOUBLE) AS d
  FROM sess GROUP BY unit_id
),
s AS (
  SELECT COUNT(*) AS sessions,
    SUM(CASE WHEN ca > cb THEN 1 ELSE 0 END) AS wins_a,
    SUM(CASE WHEN cb > ca THEN 1 ELSE 0 END) AS wins_b,
    SUM(CAST(cb - ca AS DOUBLE)) AS sum_diff,
    SUM(CAST(cb - ca AS DOUBLE) * CAST(cb - ca AS DOUBLE)) AS sum_diff_sq,
    SUM(CAST(cb + ca AS DOUBLE)) AS sum_clicks,
    SUM(CAST(cb + ca AS DOUBLE) * CAST(cb + ca AS DOUBLE)) AS sum_clicks_sq,
    SUM(shown) AS impressions, SUM(clicked) AS clicks_matched,
    SUM(outside) AS clicks_outside, SUM(unknown) AS unknown
  FROM sess
),
u AS (
  SELECT COUNT(*) AS units, SUM(d) AS sum_d, SUM(d * d) AS sum_d_sq,
    SUM(w) AS sum_w, SUM(w * w) AS sum_w_sq, SUM(w * d) AS sum_wd
  FROM per_unit
),
stray AS (
  SELECT COUNT(*) AS unmatched
  FROM raw r
  WHERE EXISTS (SELECT 1 FROM imp i WHERE i.unit_id = r.unit_id
                AND i.session_id = r.session_id)
    AND NOT EXISTS (SELECT 1 FROM imp i WHERE i.unit_id = r.unit_id
                    AND i.session_id = r.session_id AND i.item_id = r.item_id)
)
SELECT * FROM s CROSS JOIN u CROSS JOIN stray
"""


def interleaving_counts(
    experiment: Experiment,
    engine: Engine,
    *,
    phase_start: datetime | None = None,
    table: str = "events",
) -> InterleavingCounts:
    """Run the query on ``engine`` (over ``table``, the events table by default);
    DataError when it holds no impressions."""
    block = experiment.interleaving
    assert block is not None
    cols = engine.columns(table)
    if not cols:
        raise DataError(
            f"experiment {experiment.key!r}: the store has no events table, so no "
            f"{block.impression_event!r} impressions"
        )
    missing = [c for c in ("unit_id", "event", *IMPRESSION_COLUMNS) if c not in cols]
    if missing:
        raise DataError(
            f"experiment {experiment.key!r}: the events table has no {missing[0]!r} column, "
            f"so no {block.impression_event!r} impressions were logged (interleave through "
            "the SDK or POST /v1/interleave)"
        )
    sql = interleaving_sql(experiment, phase_start=phase_start, table=table)
    row = engine.query(transpile(sql, engine.dialect)).to_pylist()[0]
    if not row["sessions"]:
        raise DataError(
            f"experiment {experiment.key!r} has no {block.impression_event!r} impressions "
            "in the store"
        )

    def num(key: str) -> float:
        value = row[key]
        return float(value) if value is not None else 0.0

    sessions = SessionSums(
        sessions=int(row["sessions"]),
        wins_a=int(num("wins_a")),
        wins_b=int(num("wins_b")),
        sum_diff=num("sum_diff"),
        sum_diff_sq=num("sum_diff_sq"),
        sum_clicks=num("sum_clicks"),
        sum_clicks_sq=num("sum_clicks_sq"),
    )
    units = UnitSums(
        units=int(row["units"]),
        sum_decisive=num("sum_d"),
        sum_decisive_sq=num("sum_d_sq"),
        sum_wins_b=num("sum_w"),
        sum_wins_b_sq=num("sum_w_sq"),
        sum_cross=num("sum_wd"),
    )
    return InterleavingCounts(
        sessions=sessions,
        units=units,
        impressions=int(num("impressions")),
        clicks_matched=int(num("clicks_matched")),
        clicks_unmatched=int(num("unmatched")),
        unknown_rankers=int(num("unknown")),
        clicks_outside_window=int(num("clicks_outside")),
    )
