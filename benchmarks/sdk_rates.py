"""The SDK's local assignment rate beside the GrowthBook Python SDK's (used by
``benchmarks/server.py --sdk``; GrowthBook runs in its own virtual environment, see
``benchmarks/assign.py``)."""

from __future__ import annotations

import time

import numpy as np
from assign import growthbook_rate

from shipit.sdk import ShipitClient


def sdk_rates(url: str, token: str, n: int) -> tuple[float, float, float]:
    """SDK single-call rate (with and without exposure logging) and batch rate, units/s."""
    client = ShipitClient(url, token, start=False, max_buffer=4 * n)
    client.refresh()
    ids = [f"user-{i}" for i in range(n)]
    best_quiet = best_logged = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for unit in ids:
            client.assign("checkout", unit, log_exposure=False)
        best_quiet = max(best_quiet, n / (time.perf_counter() - start))
    start = time.perf_counter()
    for unit in ids:
        client.assign("checkout", unit)
    best_logged = n / (time.perf_counter() - start)
    big = np.array([f"user-{i}" for i in range(1_000_000)], dtype=object)
    start = time.perf_counter()
    client.assign_batch("checkout", big, log_exposures=False)
    batch = len(big) / (time.perf_counter() - start)
    return best_quiet, best_logged, batch


def print_sdk_rates(url: str, token: str, units: int = 100_000) -> None:
    """Print the SDK's rates and GrowthBook's on ``units`` units."""
    quiet, logged, batch = sdk_rates(url, token, units)
    gb = growthbook_rate(units)
    print(f"local assignment, {units:,} units, two variants at 50/50:")
    print(f"  GrowthBook SDK, single call           {gb:>12,.0f} units/s   1.0x")
    print(f"  shipit SDK, single call               {quiet:>12,.0f} units/s   {quiet / gb:.1f}x")
    print(f"  shipit SDK, single call + exposure    {logged:>12,.0f} units/s   {logged / gb:.1f}x")
    print(f"  shipit SDK, batch (1M units)          {batch:>12,.0f} units/s   {batch / gb:.1f}x")
