"""Run one implementation in a fresh process: wall time, CPU time and peak memory."""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Sample", "alternate", "measure", "medians", "print_table"]


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


def alternate(
    todo: Mapping[str, Callable[[Path], dict[str, Any]]], path: Path, repeat: int
) -> tuple[dict[str, list[Sample]], list[float]]:
    """Every implementation ``repeat`` times, taking turns (a shared machine's load then
    falls on all alike); the samples and the 1-minute load average after each run."""
    samples: dict[str, list[Sample]] = {k: [] for k in todo}
    loads = []
    for _ in range(max(1, repeat)):
        for name, fn in todo.items():
            samples[name].append(measure(fn, path))
            loads.append(os.getloadavg()[0])
    return samples, loads


def medians(samples: Mapping[str, Sequence[Sample]]) -> dict[str, Sample]:
    """Per implementation the median time, CPU and peak of its runs, with its first result."""
    return {
        name: Sample(
            float(np.median([s.seconds for s in runs])),
            float(np.median([s.cpu for s in runs])),
            int(np.median([s.peak for s in runs])),
            runs[0].result,
        )
        for name, runs in samples.items()
    }


def print_table(runs: Mapping[str, Sample], base: str) -> None:
    """Time, CPU and peak RSS of each implementation, and each as a multiple of ``base``."""
    b = runs[base]
    print(
        f"{'implementation':<22}{'time':>9}{'CPU':>9}{'peak RSS':>11}"
        f"{'time ×':>9}{'CPU ×':>8}{'memory ×':>10}"
    )
    for name, s in runs.items():
        print(
            f"{name:<22}{s.seconds:>8.2f}s{s.cpu:>8.1f}s{s.peak / 2**30:>9.2f}GB"
            f"{s.seconds / b.seconds:>9.2f}{s.cpu / b.cpu:>8.2f}{s.peak / b.peak:>10.2f}"
        )
