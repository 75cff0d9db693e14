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
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

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


def generate(path: Path, n_events: int, n_units: int) -> None:
    """Write the store (a DuckDB file)."""
    import duckdb

    con = duckdb.connect(str(path / "store.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SELECT setseed(0.42)")
    con.execute(
        f"""
        CREATE TABLE exposures AS
        SELECT 'bench' AS experiment, 1 AS phase, 'u' || i AS unit_id,
               CASE WHEN hash(i) % 2 = 0 THEN 'control' ELSE 'treatment' END AS variant,
               TIMESTAMP '2024-01-08' + to_microseconds(CAST(random() * 7 * 86400e6 AS BIGINT))
                 AS timestamp
        FROM range({n_units}) t(i)
        """
    )
    names = "[" + ", ".join(f"'{e}'" for e in EVENTS) + "]"
    con.execute(
        f"""
        CREATE TABLE events AS
        SELECT 'e' || i AS event_id,
               'u' || CAST(floor(random() * {n_units}) AS BIGINT) AS unit_id,
               {names}[1 + CAST(floor(random() * 5) AS INTEGER)] AS event,
               TIMESTAMP '2024-01-01' + to_microseconds(CAST(random() * 21 * 86400e6 AS BIGINT))
                 AS timestamp,
               round(random() * 100, 2) AS value,
               ['fr', 'de', 'us', NULL][1 + CAST(floor(random() * 4) AS INTEGER)] AS country,
               ['ios', 'android', 'web'][1 + CAST(floor(random() * 3) AS INTEGER)] AS device
        FROM range({n_events}) t(i)
        """
    )
    con.close()


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


def _child(fn: Callable[[Path], dict[str, Any]], path: Path, queue: Any) -> None:
    # Imports are a fixed cost outside the computation: load them before the clock starts.
    import duckdb  # noqa: F401

    import shipit.metrics.run  # noqa: F401

    start = time.perf_counter()
    result = fn(path)
    queue.put((time.perf_counter() - start, result))


def measure(fn: Callable[[Path], dict[str, Any]], path: Path) -> tuple[float, dict[str, Any]]:
    """Run in a fresh process; return seconds and the result."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, path, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--units", type=int, default=None, help="default: events / 10")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the data")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per implementation, alternated (median)"
    )
    args = parser.parse_args()
    units = args.units or max(1, args.events // 10)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp)
        t = time.perf_counter()
        generate(path, args.events, units)
        took = time.perf_counter() - t
        print(f"generated {args.events:,} events for {units:,} units in {took:.1f} s")
        todo = {"hand-written DuckDB": run_hand_written, "shipit (DuckDB)": run_shipit}
        # The machine may be shared: alternate the two and keep medians.
        samples: dict[str, list[tuple[float, dict[str, Any]]]] = {k: [] for k in todo}
        loads = []
        for _ in range(max(1, args.repeat)):
            for name, fn in todo.items():
                samples[name].append(measure(fn, path))
                loads.append(os.getloadavg()[0])
        times = {k: float(np.median([s[0] for s in v])) for k, v in samples.items()}
        ship, hand = samples["shipit (DuckDB)"][0][1], samples["hand-written DuckDB"][0][1]
        # The numbers must agree before the times mean anything.
        assert np.allclose(ship["sums"], hand["sums"], rtol=1e-9), (ship["sums"], hand["sums"])
        assert np.array_equal(ship["funnel"], hand["funnel"]), (ship["funnel"], hand["funnel"])
        print(
            f"medians of {max(1, args.repeat)} run(s); 1-min load average "
            f"{min(loads):.1f}-{max(loads):.1f}; numbers agree"
        )
        base = times["hand-written DuckDB"]
        for name, secs in times.items():
            print(f"{name:<22}{secs:>8.2f}s{secs / base:>8.2f}×")
        print(f"shipit / hand-written: {times['shipit (DuckDB)'] / base:.2f}× (target ≤ 1.5×)")


if __name__ == "__main__":
    main()
