"""Scenario generation speed against the floor of writing the same rows, in one run.

For each built-in scenario, times chunked generation of N users and compares it with a
baseline that only draws one log-normal value per event row and builds a DataFrame of the
same shape (the least any generator of those rows must do). The ratio says how much the
scenario's modelling costs on top; units per second say how long 10M users take.

    python benchmarks/sim_generate.py [--users 1000000] [--chunk 500000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from shipit.sim import SCENARIOS, iter_chunks


def baseline(rows: int, chunk_rows: int) -> float:
    """Seconds to draw ``rows`` values and wrap them in event-shaped DataFrames."""
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    done = 0
    while done < rows:
        n = min(chunk_rows, rows - done)
        pd.DataFrame(
            {
                "event_id": np.arange(done, done + n),
                "unit_id": pd.Categorical.from_codes(
                    rng.integers(0, 1000, n), [str(i) for i in range(1000)]
                ),
                "ts": np.datetime64("2026-01-01", "ns")
                + rng.integers(0, 10**15, n).astype("timedelta64[ns]"),
                "value": rng.lognormal(0.0, 1.0, n),
            }
        )
        done += n
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=500_000)
    args = parser.parse_args()
    print(f"{'scenario':<14} {'events':>12} {'seconds':>9} {'users/s':>11} {'vs floor':>9}")
    for name in SCENARIOS:
        start = time.perf_counter()
        rows = 0
        for chunk in iter_chunks(name, args.users, seed=1, chunk_size=args.chunk):
            rows += len(chunk.events)
        took = time.perf_counter() - start
        floor = baseline(rows, max(1, rows * args.chunk // args.users))
        print(
            f"{name:<14} {rows:>12,} {took:>9.2f} {args.users / took:>11,.0f} {took / floor:>8.1f}x"
        )


if __name__ == "__main__":
    main()
