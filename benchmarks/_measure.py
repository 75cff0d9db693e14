"""Run one implementation in a fresh process: wall time, CPU time and peak memory."""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["Sample", "measure"]


class Sample(NamedTuple):
    """One run: wall seconds, CPU seconds (all threads), peak RSS in bytes, the result."""

    seconds: float
    cpu: float
    peak: int
    result: dict[str, Any]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(fn: Callable[[Path], dict[str, Any]], path: Path, queue: Any) -> None:
    # Imports are a fixed cost outside the computation: load them before the clock starts.
    import duckdb  # noqa: F401
    import pandas  # noqa: F401

    import shipit.metrics.run  # noqa: F401

    cpu, start = _cpu(), time.perf_counter()
    result = fn(path)
    elapsed, used = time.perf_counter() - start, _cpu() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    queue.put(Sample(elapsed, used, peak, result))


def measure(fn: Callable[[Path], dict[str, Any]], path: Path) -> Sample:
    """``fn(path)`` in a fresh (spawned) process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, path, queue))
    proc.start()
    out: Sample = queue.get()
    proc.join()
    return out
