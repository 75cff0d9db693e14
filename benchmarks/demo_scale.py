"""``shipit demo`` at scale: wall time, CPU time and peak memory, measured by /usr/bin/time -v.

Runs the demo in a child process under ``/usr/bin/time -v`` (peak resident memory of the
whole process, DuckDB included) and prints each step's time as the demo reports it, the
totals, and whether the recommender's CUPED intervals cover the true effects and how large
the chance pre-period imbalance is at that size.

    python benchmarks/demo_scale.py --users 1000000 3000000
    python benchmarks/demo_scale.py --users 10000000

On a shared machine the wall time depends on the load; the CPU time (user + system) does
much less, so both are printed (with the load average at the start).
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


def child(users: int, out: Path, scenario: str) -> None:
    """Run the demo here, printing each step's seconds and the truth check as JSON."""
    from shipit.cli.demo_run import run_demo

    steps: list[tuple[str, float]] = []
    start = last = time.perf_counter()
    name = ["simulating and storing"]

    def stage(step: str) -> None:
        nonlocal last
        now = time.perf_counter()
        steps.append((name[0], now - last))
        name[0], last = step, now

    result = run_demo(scenario, users, out, stage=stage)
    steps.append((name[0], time.perf_counter() - last))
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
    print(f"{scenario}, {users:,} users (load average {load:.1f} at the start)")
    for step, seconds in report["steps"]:
        print(f"  {step:<45} {seconds:8.1f} s")
    print(f"  wall {wall}, CPU {cpu:.0f} s, peak memory {peak:.2f} GB, store {size:.2f} GB")
    print(f"  {report['truth']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="+", default=[1_000_000])
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
