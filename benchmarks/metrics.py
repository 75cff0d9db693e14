"""Time and peak memory to moments: shipit on DuckDB vs pandas vs one hand-written query.

Generates exposures and events (100M events for 10M units by default; --events/--units
to go smaller), 2 variants and 5 metrics with one pre-period covariate each, then runs
each implementation in its own process and prints ratios against the hand-written DuckDB
query (the floor for this engine) in the same run.

    python benchmarks/metrics.py --events 20000000 --units 2000000 --repeat 3 --by-day
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import export_parquet, store
from _measure import alternate, medians, print_table

from shipit.spec.metric import MetricDef

WEEK_H = 7 * 24
PRE = {"start_hours": -WEEK_H, "end_hours": 0}
METRICS = [
    MetricDef(
        name="revenue",
        event="purchase",
        window={"end_hours": WEEK_H},
        covariates=[{"name": "pre_revenue", "event": "purchase", "window": PRE}],
    ),
    MetricDef(
        name="purchases",
        event="purchase",
        aggregation="count",
        window={"end_hours": WEEK_H},
        covariates=[
            {"name": "pre_purchases", "event": "purchase", "aggregation": "count", "window": PRE}
        ],
    ),
    MetricDef(
        name="signed_up",
        event="signup",
        aggregation="any",
        window={"end_hours": WEEK_H},
        covariates=[{"name": "pre_visits", "event": "visit", "aggregation": "any", "window": PRE}],
    ),
    MetricDef(
        name="max_latency",
        event="search",
        aggregation="max",
        window={"end_hours": WEEK_H},
        covariates=[
            {"name": "pre_latency", "event": "search", "aggregation": "max", "window": PRE}
        ],
    ),
    MetricDef(
        name="revenue_per_visit",
        numerator={"event": "purchase"},
        denominator={"event": "visit", "aggregation": "count"},
        window={"end_hours": WEEK_H},
        covariates=[{"name": "pre_revenue", "event": "purchase", "window": PRE}],
    ),
]
VARIANTS = ["control", "treatment"]
EVENTS = ["visit", "search", "purchase", "signup", "click"]


def run_shipit(path: Path) -> dict[str, Any]:
    from shipit.metrics.run import compute_moments
    from shipit.store.duckdb import DuckDBEngine

    engine = DuckDBEngine(path / "store.duckdb")
    result = compute_moments(engine, "bench", 1, VARIANTS, METRICS)
    return {m: result.moments(m).matrix for m in result.metrics}


def run_shipit_daily(path: Path) -> dict[str, Any]:
    """``--by day``: cumulative moments per day from per-unit changes."""
    from shipit.metrics.run import compute_moments
    from shipit.store.duckdb import DuckDBEngine

    engine = DuckDBEngine(path / "store.duckdb")
    result = compute_moments(engine, "bench", 1, VARIANTS, METRICS, by="day")
    return {m: result.moments(m).matrix for m in result.metrics}


def run_shipit_daily_dense(path: Path) -> dict[str, Any]:
    """``--by day`` with the units × days plan, for comparison."""
    from shipit.metrics.compile import compile_moments
    from shipit.metrics.request import MomentsRequest
    from shipit.metrics.run import _read
    from shipit.store.duckdb import DuckDBEngine

    engine = DuckDBEngine(path / "store.duckdb")
    plan = compile_moments(
        MomentsRequest("bench", 1, VARIANTS, METRICS, by="day", day_plan="dense")
    )
    result = _read(plan, engine.query(plan.sql).to_pydict(), VARIANTS)
    return {m: result.moments(m).matrix for m in result.metrics}


HAND_WRITTEN = """
WITH first AS (
  SELECT unit_id, min(timestamp) AS t0, min(variant) AS variant
  FROM exposures WHERE experiment = 'bench' AND phase = 1
  GROUP BY unit_id HAVING count(DISTINCT variant) = 1
),
per_unit AS (
  SELECT f.variant,
    coalesce(sum(e.value) FILTER (e.event = 'purchase' AND e.timestamp >= f.t0), 0) AS rev,
    coalesce(sum(e.value) FILTER (e.event = 'purchase' AND e.timestamp < f.t0), 0) AS pre_rev,
    count(*) FILTER (e.event = 'purchase' AND e.timestamp >= f.t0) AS buys,
    count(*) FILTER (e.event = 'purchase' AND e.timestamp < f.t0) AS pre_buys,
    coalesce(max(1) FILTER (e.event = 'signup' AND e.timestamp >= f.t0), 0) AS signup,
    coalesce(max(1) FILTER (e.event = 'visit' AND e.timestamp < f.t0), 0) AS pre_visit,
    coalesce(max(e.value) FILTER (e.event = 'search' AND e.timestamp >= f.t0), 0) AS lat,
    coalesce(max(e.value) FILTER (e.event = 'search' AND e.timestamp < f.t0), 0) AS pre_lat,
    count(*) FILTER (e.event = 'visit' AND e.timestamp >= f.t0) AS visits
  FROM first f LEFT JOIN events e
    ON e.unit_id = f.unit_id
   AND e.timestamp >= f.t0 - INTERVAL 7 DAY AND e.timestamp < f.t0 + INTERVAL 7 DAY
  GROUP BY f.unit_id, f.variant
)
SELECT variant, count(*) AS n,
  sum(rev), sum(rev*rev), sum(pre_rev), sum(rev*pre_rev), sum(pre_rev*pre_rev),
  sum(buys), sum(buys*buys), sum(pre_buys), sum(buys*pre_buys), sum(pre_buys*pre_buys),
  sum(signup), sum(signup*signup), sum(pre_visit), sum(signup*pre_visit),
  sum(pre_visit*pre_visit),
  sum(lat), sum(lat*lat), sum(pre_lat), sum(lat*pre_lat), sum(pre_lat*pre_lat),
  sum(visits), sum(visits*visits), sum(rev*visits)
FROM per_unit GROUP BY variant ORDER BY variant
"""


def run_hand_written(path: Path) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(str(path / "store.duckdb"), read_only=True)
    rows = con.execute(HAND_WRITTEN).fetchall()
    return {"revenue_sums": np.array([[r[1], r[2], r[3]] for r in rows], dtype=float)}


def run_pandas(path: Path) -> dict[str, Any]:
    import pandas as pd

    ex = pd.read_parquet(path / "exposures.parquet")
    ev = pd.read_parquet(path / "events.parquet")
    g = ex.groupby("unit_id")
    units = pd.DataFrame(
        {"t0": g["timestamp"].min(), "variant": g["variant"].first(), "k": g["variant"].nunique()}
    )
    units = units[units["k"] == 1].drop(columns="k")
    ev = ev.merge(units, left_on="unit_id", right_index=True)
    dt = ev["timestamp"] - ev["t0"]
    week = pd.Timedelta(days=7)
    post = (dt >= pd.Timedelta(0)) & (dt < week)
    pre = (dt >= -week) & (dt < pd.Timedelta(0))
    out: dict[str, Any] = {}

    def per_unit(mask: Any, how: str) -> Any:
        sub = ev.loc[mask, ["unit_id", "value"]]
        grouped = sub.groupby("unit_id")["value"]
        agg = {"sum": grouped.sum, "count": grouped.size, "max": grouped.max}[how]()
        if how == "any":
            agg = grouped.size().clip(upper=1)
        return agg.reindex(units.index).fillna(0.0).to_numpy()

    def any_unit(mask: Any) -> Any:
        return (
            ev.loc[mask].groupby("unit_id").size().clip(upper=1).reindex(units.index).fillna(0.0)
        ).to_numpy()

    is_ = {e: ev["event"] == e for e in EVENTS}
    cols = {
        "revenue": (
            per_unit(is_["purchase"] & post, "sum"),
            per_unit(is_["purchase"] & pre, "sum"),
        ),
        "purchases": (
            per_unit(is_["purchase"] & post, "count"),
            per_unit(is_["purchase"] & pre, "count"),
        ),
        "signed_up": (any_unit(is_["signup"] & post), any_unit(is_["visit"] & pre)),
        "max_latency": (
            per_unit(is_["search"] & post, "max"),
            per_unit(is_["search"] & pre, "max"),
        ),
    }
    visits = per_unit(is_["visit"] & post, "count")
    variant = units["variant"].to_numpy()
    for name, (y, x) in cols.items():
        out[name] = np.array(
            [
                [
                    (variant == v).sum(),
                    y[variant == v].sum(),
                    (y * y)[variant == v].sum(),
                    x[variant == v].sum(),
                    (x * y)[variant == v].sum(),
                    (x * x)[variant == v].sum(),
                ]
                for v in VARIANTS
            ]
        )
    rev = cols["revenue"][0]
    out["revenue_per_visit"] = np.array(
        [[rev[variant == v].sum(), visits[variant == v].sum()] for v in VARIANTS]
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--units", type=int, default=10_000_000)
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas baseline")
    parser.add_argument(
        "--dir", type=Path, default=None, help="cache folder of the data (default: the temp dir)"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated data")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per implementation, alternated (median)"
    )
    parser.add_argument("--by-day", action="store_true", help="add the --by day rows")
    parser.add_argument(
        "--dense-day", action="store_true", help="with --by-day, also the units × days plan"
    )
    args = parser.parse_args()
    t = time.perf_counter()
    path = store("metrics", args.events, args.units, EVENTS, seed=args.seed, root=args.dir)
    took = time.perf_counter() - t
    print(f"{args.events:,} events for {args.units:,} units in {path} ({took:.1f} s)")
    todo: dict[str, Callable[[Path], dict[str, Any]]] = {
        "hand-written DuckDB": run_hand_written,
        "shipit (DuckDB)": run_shipit,
    }
    skip_pandas = args.no_pandas or args.events > 40_000_000
    if not skip_pandas:
        export_parquet(path, {"exposures": "*", "events": "unit_id, event, timestamp, value"})
        todo["pandas"] = run_pandas
    else:
        print("pandas skipped (--no-pandas, or more than 40M events)")
    if args.by_day:
        todo["shipit --by day"] = run_shipit_daily
        if args.dense_day:
            todo["shipit --by day dense"] = run_shipit_daily_dense
    # The machine may be shared: alternate implementations and keep medians.
    samples, loads = alternate(todo, path, args.repeat)
    runs = medians(samples)
    load = f"{min(loads):.1f}-{max(loads):.1f}"
    print(f"medians of {max(1, args.repeat)} run(s); 1-min load average {load}")
    # The three implementations must agree before their speed means anything.
    ship, hand = runs["shipit (DuckDB)"].result, runs["hand-written DuckDB"].result
    rev = ship["revenue"]
    mine = np.column_stack([rev[:, 0, 0], rev[:, 0, 1], rev[:, 1, 1]])
    assert np.allclose(mine, hand["revenue_sums"], rtol=1e-9), (mine, hand["revenue_sums"])
    if "pandas" in runs:
        pan = runs["pandas"].result
        for name in ("revenue", "purchases", "signed_up", "max_latency"):
            m = ship[name]
            got = np.column_stack(
                [m[:, 0, 0], m[:, 0, 1], m[:, 1, 1], m[:, 0, 2], m[:, 1, 2], m[:, 2, 2]]
            )
            assert np.allclose(got, pan[name], rtol=1e-9), name
    print_table(runs, "hand-written DuckDB")
    if "pandas" in runs:
        pan_run, ship_run = runs["pandas"], runs["shipit (DuckDB)"]
        print(
            f"shipit vs pandas: {pan_run.seconds / ship_run.seconds:.1f}× faster, "
            f"{ship_run.peak / pan_run.peak:.2f}× the memory"
        )
    if "shipit --by day dense" in runs:
        day, dense = runs["shipit --by day"].result, runs["shipit --by day dense"].result
        for name in day:
            assert np.allclose(day[name], dense[name], rtol=1e-9), name


if __name__ == "__main__":
    main()
