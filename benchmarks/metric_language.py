"""Filtered metrics and a funnel: shipit on DuckDB against one hand-written DuckDB query.

Generates exposures and events with properties (100M events for 10M units by default;
--events/--units to go smaller), then times, each in its own process, shipit computing two
filtered metrics (French revenue, mobile item views) and a three-step funnel, and a
hand-written query giving the same numbers (the floor for this engine). Prints both times
and the ratio, after checking that the numbers agree.

    python benchmarks/metric_language.py --events 10000000 --units 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import store
from _measure import alternate, medians, print_table

from shipit.spec.metric import MetricDef

WEEK_H = 7 * 24
WEEK = {"end_hours": WEEK_H}
METRICS = [
    MetricDef(
        name="revenue_fr",
        event="purchase",
        window=WEEK,
        where=[{"property": "country", "op": "eq", "value": "fr"}],
    ),
    MetricDef(
        name="mobile_views",
        event="view_item",
        aggregation="count",
        window=WEEK,
        where=[{"property": "device", "op": "in", "value": ["ios", "android"]}],
    ),
    MetricDef(name="checkout", funnel=["view_item", "add_to_cart", "purchase"], window=WEEK),
]
VARIANTS = ["control", "treatment"]
EVENTS = ["visit", "view_item", "add_to_cart", "purchase", "search"]
PROPERTIES = {"country": ["fr", "de", "us", None], "device": ["ios", "android", "web"]}


def run_shipit(path: Path) -> dict[str, Any]:
    from shipit.metrics.kinds.funnel import FunnelSummary
    from shipit.metrics.run import compute_moments
    from shipit.store.duckdb import DuckDBEngine

    engine = DuckDBEngine(path / "store.duckdb")
    result = compute_moments(engine, "bench", 1, VARIANTS, METRICS)
    funnel = result["checkout"]
    assert isinstance(funnel, FunnelSummary)
    rev, views = result.moments("revenue_fr").matrix, result.moments("mobile_views").matrix
    return {
        "sums": np.column_stack(
            [rev[:, 0, 0], rev[:, 0, 1], rev[:, 1, 1], views[:, 0, 1], views[:, 1, 1]]
        ),
        "funnel": funnel.reached,
    }


HAND_WRITTEN = """
WITH first AS (
  SELECT unit_id, min(timestamp) AS t0, min(variant) AS variant
  FROM exposures WHERE experiment = 'bench' AND phase = 1
  GROUP BY unit_id HAVING count(DISTINCT variant) = 1
),
ev AS (
  SELECT f.unit_id, e.event, e.timestamp AS ts, e.value, e.country, e.device
  FROM first f JOIN events e
    ON e.unit_id = f.unit_id AND e.timestamp >= f.t0 AND e.timestamp < f.t0 + INTERVAL 7 DAY
   AND e.event IN ('view_item', 'add_to_cart', 'purchase')
),
per_unit AS (
  SELECT f.unit_id, f.variant,
    coalesce(sum(e.value) FILTER (e.event = 'purchase' AND e.country = 'fr'), 0) AS rev,
    count(*) FILTER (e.event = 'view_item' AND e.device IN ('ios', 'android')) AS views,
    min(e.ts) FILTER (e.event = 'view_item') AS t1
  FROM first f LEFT JOIN ev e ON e.unit_id = f.unit_id
  GROUP BY f.unit_id, f.variant
),
s2 AS (
  SELECT p.unit_id, min(e.ts) AS t2 FROM per_unit p
  JOIN ev e ON e.unit_id = p.unit_id AND e.event = 'add_to_cart' AND e.ts > p.t1
  GROUP BY p.unit_id
),
s3 AS (
  SELECT s.unit_id, min(e.ts) AS t3 FROM s2 s
  JOIN ev e ON e.unit_id = s.unit_id AND e.event = 'purchase' AND e.ts > s.t2
  GROUP BY s.unit_id
)
SELECT p.variant, count(*) AS n, sum(rev), sum(rev * rev), sum(views), sum(views * views),
  count(p.t1), count(s2.t2), count(s3.t3)
FROM per_unit p LEFT JOIN s2 ON s2.unit_id = p.unit_id LEFT JOIN s3 ON s3.unit_id = p.unit_id
GROUP BY p.variant ORDER BY p.variant
"""


def run_hand_written(path: Path) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(str(path / "store.duckdb"), read_only=True)
    rows = con.execute(HAND_WRITTEN).fetchall()
    return {
        "sums": np.array([r[1:6] for r in rows], dtype=float),
        "funnel": np.array([r[6:9] for r in rows], dtype=float),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--units", type=int, default=None, help="default: events / 10")
    parser.add_argument(
        "--dir", type=Path, default=None, help="cache folder of the data (default: the temp dir)"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the generated data")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per implementation, alternated (median)"
    )
    args = parser.parse_args()
    units = args.units or max(1, args.events // 10)
    t = time.perf_counter()
    path = store("metric_language", args.events, units, EVENTS, PROPERTIES, seed=args.seed,
                 root=args.dir)  # fmt: skip
    took = time.perf_counter() - t
    print(f"{args.events:,} events for {units:,} units in {path} ({took:.1f} s)")
    todo = {"hand-written DuckDB": run_hand_written, "shipit (DuckDB)": run_shipit}
    # The machine may be shared: alternate the two and keep medians.
    samples, loads = alternate(todo, path, args.repeat)
    ship, hand = samples["shipit (DuckDB)"][0].result, samples["hand-written DuckDB"][0].result
    # The numbers must agree before the times mean anything.
    assert np.allclose(ship["sums"], hand["sums"], rtol=1e-9), (ship["sums"], hand["sums"])
    assert np.array_equal(ship["funnel"], hand["funnel"]), (ship["funnel"], hand["funnel"])
    print(
        f"medians of {max(1, args.repeat)} run(s); 1-min load average "
        f"{min(loads):.1f}-{max(loads):.1f}; numbers agree"
    )
    runs = medians(samples)
    print_table(runs, "hand-written DuckDB")
    ratio = runs["shipit (DuckDB)"].seconds / runs["hand-written DuckDB"].seconds
    print(f"shipit / hand-written: {ratio:.2f}× (target ≤ 1.5×)")


if __name__ == "__main__":
    main()
