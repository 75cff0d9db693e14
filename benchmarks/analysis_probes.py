"""Health probes while analyses run, per place the analysis runs, measured in turns.

Run: ``python benchmarks/analysis_probes.py [--rounds R] [--seconds S] [--units U]``.

Three shipit servers run at once, each on its own store of a ``U``-unit experiment:
analyses in a thread of the server (``SHIPIT_ANALYSIS_WORKER=thread``), in the worker
process (the default), and in the worker process with DuckDB on one thread
(``SHIPIT_STORE_THREADS=1``). Each round gives each server a window of ``S`` seconds in
which analyses run back to back while wrk probes its ``/healthz`` (8 connections), then an
idle window (no analysis anywhere). Taking turns, the modes see the same machine: on a
shared machine a single window's p99 says more about the neighbours than about the server,
the median over rounds much less so. Prints each round's p99s and, per mode, the median,
min and max p99 over the rounds, the probes' rate and the analyses' mean time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from server import fill_experiment, start_shipit, wrk

MODES = {
    "thread": {"SHIPIT_ANALYSIS_WORKER": "thread"},
    "process": {"SHIPIT_ANALYSIS_WORKER": "process"},
    "process+t1": {"SHIPIT_ANALYSIS_WORKER": "process", "SHIPIT_STORE_THREADS": "1"},
}


def analyse(url: str, admin: str, stop: threading.Event, times: list[float]) -> None:
    """Analyses of ``checkout`` back to back until ``stop`` (at least one)."""
    headers = {"Authorization": f"Bearer {admin}"}
    with httpx.Client(base_url=url, headers=headers, timeout=600) as c:
        while True:
            t0 = time.monotonic()
            c.post("/v1/experiments/checkout/analyses").raise_for_status()
            times.append(time.monotonic() - t0)
            if stop.is_set():
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0, help="per window")
    parser.add_argument("--units", type=int, default=200_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="shipit-probes-"))
    servers = {}
    try:
        for name, env in MODES.items():
            os.environ.pop("SHIPIT_STORE_THREADS", None)
            os.environ.update(env)
            fill_experiment(tmp / f"{name}.duckdb", args.units)
            servers[name] = start_shipit(tmp, name)
        for server, admin, _ in servers.values():  # the worker started, the stack imported
            done = threading.Event()
            done.set()
            analyse(server.url, admin, done, [])
        names = [*MODES, "idle"]
        p99: dict[str, list[float]] = {m: [] for m in names}
        rate: dict[str, list[float]] = {m: [] for m in names}
        took: dict[str, list[float]] = {m: [] for m in MODES}
        for k in range(args.rounds):
            for name in names:
                server, admin, sdk = servers["thread" if name == "idle" else name]
                stop = threading.Event()
                worker = None
                if name != "idle":
                    worker = threading.Thread(
                        target=analyse, args=(server.url, admin, stop, took[name])
                    )
                    worker.start()
                    time.sleep(0.3)
                r = wrk(server.url, "/healthz", None, sdk, args.seconds, 8, tmp, "h")
                stop.set()
                if worker is not None:
                    worker.join()
                p99[name].append(r["p99_ms"])
                rate[name].append(r["rps"])
            row = "  ".join(f"{m} {p99[m][-1]:6.1f}" for m in names)
            print(f"round {k + 1}: /healthz p99 ms  {row}   load {os.getloadavg()[0]:.1f}")
        for m in names:
            extra = f"; analyses {statistics.mean(took[m]):.2f} s each" if m in took else ""
            print(
                f"{m:<11} /healthz p99 over {args.rounds} windows: median "
                f"{statistics.median(p99[m]):6.1f} ms, min {min(p99[m]):6.1f}, max "
                f"{max(p99[m]):6.1f}; {statistics.mean(rate[m]):,.0f} req/s{extra}"
            )
    finally:
        for server, _, _ in servers.values():
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
