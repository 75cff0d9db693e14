"""The service under load on localhost: POST /v1/assign and POST /v1/events, and the SDK's
local assignment rate beside the GrowthBook Python SDK's on the same experiment.

Run: ``python benchmarks/server.py [--seconds S] [--threads T]``. The server runs under
uvicorn in a subprocess with fresh SQLite and DuckDB files; a pool of threads with one httpx
client each sends requests for S seconds per scenario. Prints requests (and rows) per
second with p50/p99 latency. GrowthBook runs in its own virtual environment (see
``benchmarks/assign.py``, created under the temp directory when missing).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))
sys.path.insert(0, str(HERE))

from assign import growthbook_rate  # noqa: E402

from shipit.registry.keys import KeyRepository  # noqa: E402
from shipit.sdk import ShipitClient  # noqa: E402

SPEC = """\
key: checkout
owner: bench
variants:
  - {key: control, weight: 0.5}
  - {key: treatment, weight: 0.5}
metrics:
  - {name: converted, event: purchase, aggregation: any}
primary_metric: converted
"""

LAUNCH = """
import sys
import uvicorn
from shipit.server import ServerSettings, create_app
port, database_url, store = int(sys.argv[1]), sys.argv[2], sys.argv[3]
settings = ServerSettings(port=port, database_url=database_url, store=store)
uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
            access_log=False)
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def drive(
    url: str, token: str, seconds: float, threads: int, make: Callable[[int, int], tuple[str, dict]]
) -> tuple[int, list[float]]:
    """Send ``make(thread, i)`` requests from ``threads`` threads for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0]
    stop = time.monotonic() + seconds

    def work(t: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
            i = 0
            while time.monotonic() < stop:
                path, body = make(t, i)
                start = time.perf_counter()
                r = c.post(path, json=body)
                latencies[t].append(time.perf_counter() - start)
                if r.status_code != 200:
                    errors[0] += 1
                i += 1

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return errors[0], [x for lat in latencies for x in lat]


def report(name: str, seconds: float, lat: list[float], rows_per_request: int, errors: int) -> None:
    arr = np.asarray(lat) * 1000
    rps = len(arr) / seconds
    print(
        f"{name:<34} {rps:>9,.0f} req/s {rps * rows_per_request:>11,.0f} rows/s   "
        f"p50 {np.percentile(arr, 50):6.1f} ms   p99 {np.percentile(arr, 99):6.1f} ms"
        + (f"   errors {errors}" if errors else "")
    )


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


def _events(n: int) -> Callable[[int, int], tuple[str, dict]]:
    """Requests of ``n`` new events each."""

    def make(t: int, i: int) -> tuple[str, dict]:
        now = datetime.now(UTC).isoformat()
        rows = [
            {
                "event_id": f"e{n}-{t}-{i}-{k}",
                "unit_id": f"u{k}",
                "event": "purchase",
                "timestamp": now,
                "value": 1.0,
            }
            for k in range(n)
        ]
        return "/v1/events", {"events": rows}

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="per scenario")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--units", type=int, default=100_000, help="for the SDK rates")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="shipit-bench-"))
    database_url = f"sqlite:///{tmp / 'registry.db'}"
    keys = KeyRepository.from_url(database_url)
    admin, sdk = keys.create("bench", "admin").token, keys.create("bench", "sdk").token
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), *sys.path])}
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, str(port), database_url, str(tmp / "store.duckdb")],
        env=env,
    )
    try:
        _wait(url, proc)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}) as c:
            c.post("/v1/experiments", json={"yaml": SPEC}).raise_for_status()
            c.post("/v1/experiments/checkout/start").raise_for_status()
        print(f"server: uvicorn, 1 process; {args.threads} client threads, {args.seconds:g} s each")
        scenarios: list[tuple[str, int, Callable[[int, int], tuple[str, dict]]]] = [
            (
                "POST /v1/assign (1 unit)",
                1,
                lambda t, i: ("/v1/assign", {"experiment": "checkout", "unit_id": f"u{t}-{i}"}),
            ),
            (
                "POST /v1/assign (batch of 1,000)",
                1000,
                lambda t, i: (
                    "/v1/assign",
                    {
                        "experiment": "checkout",
                        "units": [{"unit_id": f"u{t}-{i}-{k}"} for k in range(1000)],
                    },
                ),
            ),
            ("POST /v1/events (batch of 100)", 100, _events(100)),
            ("POST /v1/events (batch of 1,000)", 1000, _events(1000)),
        ]
        for name, rows, make in scenarios:
            errors, lat = drive(url, sdk, args.seconds, args.threads, make)
            report(name, args.seconds, lat, rows, errors)
        quiet, logged, batch = sdk_rates(url, sdk, args.units)
    finally:
        proc.terminate()
        proc.wait(15)
    gb = growthbook_rate(args.units)
    print(f"\nlocal assignment, {args.units:,} units, two variants at 50/50:")
    print(f"  GrowthBook SDK, single call           {gb:>12,.0f} units/s   1.0x")
    print(f"  shipit SDK, single call               {quiet:>12,.0f} units/s   {quiet / gb:.1f}x")
    print(f"  shipit SDK, single call + exposure    {logged:>12,.0f} units/s   {logged / gb:.1f}x")
    print(f"  shipit SDK, batch (1M units)          {batch:>12,.0f} units/s   {batch / gb:.1f}x")


if __name__ == "__main__":
    main()
