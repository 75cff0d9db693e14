"""``shipit demo`` at scale: wall time, CPU time and peak memory, measured by /usr/bin/time -v.

Runs the demo in a child process under ``/usr/bin/time -v`` (peak resident memory of the
whole process, DuckDB included) and prints each step's time as the demo reports it, the
totals, and whether the recommender's CUPED intervals cover the true effects and how large
the chance pre-period imbalance is at that size.

    python benchmarks/demo_scale.py                      # 10M users, against the targets
    python benchmarks/demo_scale.py --users 1000000 3000000

On a shared machine the wall time depends on the load; the CPU time (user + system) does
much less, so both are printed, per step too (with the load average at the start and the
end), and the targets for 10M users (under 5 minutes, under 6 GB) are marked PASS or MISS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

METRICS = ("watch_time", "sessions")
WALL_TARGET = 300  # seconds, for 10M users
MEMORY_TARGET = 6.0  # GB (2**30 bytes) peak resident memory


def child(users: int, out: Path, scenario: str) -> None:
    """Run the demo here, printing each step's seconds and the truth check as JSON."""
    from shipit.cli.demo_run import run_demo

    steps: list[tuple[str, float, float]] = []
    start = last = time.perf_counter()
    last_cpu = time.process_time()  # all of the process's threads, DuckDB's included
    name = ["simulating and storing"]

    def stage(step: str) -> None:
        nonlocal last, last_cpu
        now, cpu = time.perf_counter(), time.process_time()
        steps.append((name[0], now - last, cpu - last_cpu))
        name[0], last, last_cpu = step, now, cpu

    result = run_demo(scenario, users, out, stage=stage)
    stage("")
    a = result.analysis
    truth: dict[str, object] = {"verdict": a.verdict.decision}
    if scenario == "recommender":
        for metric in METRICS:
            e = a.effect(metric, "new_recommender")
            assert e is not None
            assert e.adjusted is not None
            lo, hi = e.adjusted.rel_ci_low, e.adjusted.rel_ci_high
            want = result.analysis.true_effects[metric] if a.true_effects else None
            truth[metric] = [lo, hi, want, lo is not None and hi is not None and lo < want < hi]
        balance = next(t for t in a.trust if t.name == "balance")
        truth["pre_watch_time_imbalance"] = balance.details.get("pre_watch_time_rel_diff")
    total = time.perf_counter() - start
    print(json.dumps({"steps": steps, "truth": truth, "seconds": total}))


def measure(users: int, scenario: str) -> None:
    """One run under /usr/bin/time -v, reported."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            "/usr/bin/time",
            "-v",
            sys.executable,
            __file__,
            "--child",
            "--scenario",
            scenario,
            "--users",
            str(users),
            "--out",
            str(Path(tmp) / "demo"),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        store = Path(tmp) / "demo" / "store.duckdb"
        size = store.stat().st_size / 2**30 if store.exists() else float("nan")
    if done.returncode != 0:
        sys.exit(f"demo failed:\n{done.stderr[-3000:]}")
    stats = {
        k.strip(): v.strip()
        for k, _, v in (line.rpartition(": ") for line in done.stderr.splitlines())
        if k
    }
    wall = stats["Elapsed (wall clock) time (h:mm:ss or m:ss)"]
    cpu = float(stats["User time (seconds)"]) + float(stats["System time (seconds)"])
    peak = int(stats["Maximum resident set size (kbytes)"]) / 2**20
    report = json.loads(done.stdout.strip().splitlines()[-1])
    end = os.getloadavg()[0]
    print(
        f"{scenario}, {users:,} users (load average {load:.1f} at the start, {end:.1f} at the end)"
    )
    print(f"  {'step':<45} {'wall s':>8} {'CPU s':>8}")
    for step, seconds, cpu_s in report["steps"]:
        print(f"  {step:<45} {seconds:8.1f} {cpu_s:8.1f}")
    seconds = _seconds(wall)
    print(f"  wall {wall}, CPU {cpu:.0f} s, peak memory {peak:.2f} GB, store {size:.2f} GB")
    # On a quiet machine a step takes between its CPU time spread over the cores and its
    # whole CPU time (one core); the measured wall only counts when the machine was quiet.
    cores = os.cpu_count() or 1
    in_steps = sum(c for _, _, c in report["steps"])
    low = max(0.0, cpu - in_steps) + in_steps / cores  # start-up (imports) on one core
    print(f"  quiet wall projected from CPU time: {low:.0f}-{cpu:.0f} s ({cores} cores)")
    print(
        f"  target: wall {'PASS' if seconds < WALL_TARGET else 'MISS'} "
        f"({seconds:.0f} s < {WALL_TARGET} s, at load {load:.1f}), "
        f"memory {'PASS' if peak < MEMORY_TARGET else 'MISS'} ({peak:.2f} GB < {MEMORY_TARGET} GB)"
    )
    print(f"  {report['truth']}")


def _seconds(clock: str) -> float:
    """Seconds of an h:mm:ss or m:ss(.ss) clock."""
    total = 0.0
    for part in clock.split(":"):
        total = total * 60 + float(part)
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--scenario", default="recommender")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.users[0], args.out, args.scenario)
        return
    for users in args.users:
        measure(users, args.scenario)


if __name__ == "__main__":
    main()
