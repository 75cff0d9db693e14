"""Writing demo chunks to the store: one bulk transaction against a load per chunk and table.

Prints both times and the ratio; ``--users`` sets the size (default 300,000).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from shipit.sim import iter_chunks
from shipit.sim.storage import write_chunk
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import bulk_load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=300_000)
    parser.add_argument("--scenario", default="ecommerce")
    args = parser.parse_args()
    chunks = list(iter_chunks(args.scenario, args.users, chunk_size=100_000))
    with tempfile.TemporaryDirectory() as tmp:
        baseline = DuckDBEngine(Path(tmp) / "load.duckdb")
        t0 = time.perf_counter()
        for chunk in chunks:
            write_chunk(baseline, "demo", 1, chunk, timedelta(0))
        t_load = time.perf_counter() - t0
        baseline.close()
        fast = DuckDBEngine(Path(tmp) / "bulk.duckdb")
        t0 = time.perf_counter()
        with bulk_load(fast) as bulk:
            for chunk in chunks:
                write_chunk(bulk, "demo", 1, chunk, timedelta(0))
        t_bulk = time.perf_counter() - t0
        fast.close()
    print(f"{args.scenario}, {args.users:,} users in {len(chunks)} chunks")
    print(f"load per chunk: {t_load:.2f}s   bulk: {t_bulk:.2f}s   ratio: {t_load / t_bulk:.1f}x")


if __name__ == "__main__":
    main()
