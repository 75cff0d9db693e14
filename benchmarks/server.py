"""The service under load, driven out of process by wrk, beside the framework floor.

Run: ``python benchmarks/server.py [--seconds S] [--connections C] [--warmup W]
[--stored N] [--analysis-units U] [--sdk]`` (the defaults take about three minutes).

In one run it starts, each under uvicorn in its own process with fresh files:

- shipit (``create_app``; the default ingestion: fsync'd log drained into DuckDB), and
- the framework floor: a bare FastAPI app whose handlers validate the same bodies with the
  same checks and store nothing;

then wrk (``apt-get install wrk``; Lua scripts make every event id unique), after ``W``
unmeasured seconds of the same load (2 s: first-use costs are not the steady state), sends
``POST /v1/events`` (1,000-event batches), ``POST /v1/assign`` (one unit) to both, and
prints requests and rows per second, p50/p99, the server's CPU milliseconds per request
and shipit's share of the floor. Then it probes ``/healthz`` and ``/readyz`` while
analyses of a ``U``-unit experiment run, and measures ingestion again on a store already
holding ``N`` events (default 10M; 0 skips it) against the empty store. It ends with one
PASS/MISS line per target of the service and the load average (rates measured on a busy
machine are low for the floor and shipit alike: read the ratios and the CPU per request).
``--sdk`` adds the SDK's local assignment rate beside the GrowthBook Python SDK's (see
``benchmarks/assign.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(SRC))
sys.path.insert(0, str(HERE))

from shipit.registry.keys import KeyRepository  # noqa: E402

SPEC = """\
key: checkout
owner: bench
variants:
  - {key: control, weight: 0.5}
  - {key: treatment, weight: 0.5}
metrics:
  - {name: converted, event: purchase, aggregation: any}
  - {name: revenue, event: purchase, aggregation: sum, value: value}
primary_metric: converted
secondary_metrics: [revenue]
"""

SHIPIT = """
import sys
import uvicorn
from shipit.server import ServerSettings, create_app
port, database_url, store = int(sys.argv[1]), sys.argv[2], sys.argv[3]
settings = ServerSettings(port=port, database_url=database_url, store=store)
uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
            access_log=False)
"""

# The floor: the same validation of the same bodies (shipit's column checks, with the
# pydantic schema as fallback; and the pydantic schema alone), nothing stored.
FLOOR = """
import sys
import orjson
import uvicorn
from fastapi import FastAPI, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from shipit.server.batches import events_table
from shipit.server.schemas import AssignRequest, EventsBatch, IngestResult
app = FastAPI()

def _check(raw: bytes) -> int:
    table = events_table(raw, 100_000)
    return table.num_rows if table is not None else len(EventsBatch.model_validate_json(raw).events)

@app.post("/v1/events")
async def events(request: Request, authorization: str = Header()) -> Response:
    n = await run_in_threadpool(_check, await request.body())
    return Response(orjson.dumps({"received": n, "stored": n, "duplicates": 0}),
                    media_type="application/json")

@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}

@app.post("/v1/events-pydantic", response_model=IngestResult)
def events_pydantic(body: EventsBatch, authorization: str = Header()) -> IngestResult:
    n = len(body.events)
    return IngestResult(received=n, stored=n, duplicates=0)

@app.post("/v1/assign")
def assign(body: AssignRequest, authorization: str = Header()) -> dict:
    return {"experiment": body.experiment, "phase": 1,
            "assignments": [{"unit_id": body.unit_id, "variant": "control", "reason": "ok"}]}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False)
"""

# wrk script: a fixed body template whose "@" placeholders become a per-request unique id.
LUA = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  local f = io.open(args[1], "rb"); template = f:read("*a"); f:close()
  token = args[2]; path = args[3]; run = args[4]
end
function request()
  counter = counter + 1
  local body = string.gsub(template, "@", run .. "-" .. tid .. "-" .. counter)
  return wrk.format("POST", path, {["Content-Type"] = "application/json",
                                   ["Authorization"] = "Bearer " .. token}, body)
end
function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
              + summary.errors.write + summary.errors.timeout
  io.write(string.format('WRK {"requests": %d, "seconds": %f, "errors": %d, '
    .. '"p50_ms": %f, "p99_ms": %f}\\n', summary.requests, summary.duration / 1e6, bad,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""

GET_LUA = LUA.replace('return wrk.format("POST", path,', 'return wrk.format("GET", path,').replace(
    ", body)", ", nil)"
)


# Seconds of unmeasured load before each measurement (``--warmup``).
WARMUP = 2.0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), *sys.path])}


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("a server exited during start-up")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("a server did not start")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(
    url: str, path: str, body: str | None, token: str, seconds: float, connections: int,
    tmp: Path, run: str, pid: int | None = None,
) -> dict[str, float]:  # fmt: skip
    """Run wrk on ``url + path`` (POST ``body``, or GET when None); its summary, with the
    server's CPU milliseconds per request when its ``pid`` is given."""
    script = tmp / ("get.lua" if body is None else "post.lua")
    script.write_text(GET_LUA if body is None else LUA)
    data = tmp / f"body-{run}.json"
    data.write_text(body or "")
    threads = min(2, connections)

    def run_wrk(duration: float, ids: str) -> str:
        return subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s",
             "-s", str(script), url + path, "--", str(data), token, path, ids],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip

    if WARMUP > 0:  # not measured: first-use costs (imports, caches) of floor and shipit alike
        run_wrk(WARMUP, f"{run}w")
    cpu0 = cpu_seconds(pid) if pid else 0.0
    out = run_wrk(seconds, run)
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    result: dict[str, float] = json.loads(line[4:])
    result["rps"] = result["requests"] / result["seconds"]
    if pid:
        result["cpu_ms"] = 1000 * (cpu_seconds(pid) - cpu0) / max(result["requests"], 1)
    return result


def events_body(n: int) -> str:
    """A batch of ``n`` events whose ids carry the per-request placeholder."""
    rows = [
        {"event_id": f"e@-{k}", "unit_id": f"u{k}", "event": "purchase",
         "timestamp": "2026-11-01T12:00:00Z", "value": 1.0, "properties": {"country": "fr"}}
        for k in range(n)
    ]  # fmt: skip
    return json.dumps({"events": rows})


ASSIGN_BODY = json.dumps({"experiment": "checkout", "unit_id": "u@"})


def line(
    name: str, r: dict[str, float], rows: int = 1, floor: dict[str, float] | None = None
) -> str:
    """One printed result."""
    text = (
        f"  {name:<30} {r['rps']:>8,.0f} req/s {r['rps'] * rows:>10,.0f} rows/s   "
        f"p50 {r['p50_ms']:6.1f} ms   p99 {r['p99_ms']:6.1f} ms"
    )
    if "cpu_ms" in r:
        text += f"   cpu {r['cpu_ms']:5.2f} ms/req"
    if floor is not None:
        share, p99 = r["rps"] / floor["rps"], r["p99_ms"] / floor["p99_ms"]
        text += f"   {share:5.0%} of floor rate, p99 {p99:.1f}x"
    if r["errors"]:
        text += f"   errors {r['errors']:.0f}"
    return text


class Server:
    """A uvicorn subprocess running ``code`` with ``args``."""

    def __init__(self, code: str, *args: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(self.port), *args], env=_env()
        )
        _wait(self.url, self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def fill_experiment(store: Path, units: int) -> None:
    """Exposures and purchases of ``units`` units of ``checkout`` (for the analyses)."""
    from shipit.store.duckdb import DuckDBEngine

    e = DuckDBEngine(store)
    e.con.execute(
        "CREATE TABLE IF NOT EXISTS exposures AS SELECT 'checkout' AS experiment, "
        "1::INTEGER AS phase, 'u' || range AS unit_id, "
        "CASE WHEN hash(range) % 2 = 0 THEN 'control' ELSE 'treatment' END AS variant, "
        "CAST(current_timestamp AS TIMESTAMP) + INTERVAL 1 HOUR + range * INTERVAL 1 MILLISECOND"
        f" AS timestamp FROM range({units})"
    )
    e.con.execute(
        "CREATE TABLE IF NOT EXISTS events AS SELECT 'p-' || range AS event_id, "
        "'u' || (range * 7 % " + str(units) + ") AS unit_id, 'purchase' AS event, "
        "CAST(current_timestamp AS TIMESTAMP) + INTERVAL 2 HOUR + range * INTERVAL 1 MILLISECOND"
        f" AS timestamp, (range % 13)::DOUBLE AS value, 'fr' AS country FROM range({units // 4})"
    )
    e.close()


def fill_events(store: Path, n: int) -> None:
    """``n`` stored events (with ids) in a store, written straight into DuckDB."""
    from shipit.store.duckdb import DuckDBEngine

    e = DuckDBEngine(store)
    e.con.execute(
        "CREATE TABLE events AS SELECT 'old-' || range AS event_id, 'u' || (range % 1000000) "
        "AS unit_id, 'purchase' AS event, TIMESTAMP '2026-11-01' + range * INTERVAL 1 "
        "MILLISECOND AS timestamp, (range % 7)::DOUBLE AS value, 'fr' AS country "
        f"FROM range({n})"
    )
    e.close()


def start_shipit(tmp: Path, name: str) -> tuple[Server, str, str]:
    """shipit on fresh registry and the store ``tmp/name.duckdb``; its admin and sdk keys."""
    database_url = f"sqlite:///{tmp / (name + '.db')}"
    keys = KeyRepository.from_url(database_url)
    admin, sdk = keys.create("bench", "admin").token, keys.create("bench", "sdk").token
    keys.engine.dispose()
    t0 = time.monotonic()
    server = Server(SHIPIT, database_url, str(tmp / f"{name}.duckdb"))
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {admin}"}) as c:
        c.post("/v1/experiments", json={"yaml": SPEC}).raise_for_status()
        c.post("/v1/experiments/checkout/start").raise_for_status()
    print(f"  (started in {time.monotonic() - t0:.1f} s)")
    return server, admin, sdk


def probes_during_analyses(
    server: Server, admin: str, sdk: str, args: argparse.Namespace, tmp: Path
) -> dict[str, dict[str, float]]:
    """wrk on /healthz and /readyz while analyses run back to back; their summaries."""
    stop = threading.Event()
    times: list[float] = []

    def analyse() -> None:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {admin}"}, timeout=600
        ) as c:
            while not stop.is_set():
                t0 = time.monotonic()
                r = c.post("/v1/experiments/checkout/analyses")
                if r.status_code != 201:
                    print(f"  analysis failed: {r.status_code} {r.text[:300]}")
                    return
                times.append(time.monotonic() - t0)

    worker = threading.Thread(target=analyse, daemon=True)
    worker.start()
    time.sleep(0.5)
    out = {}
    for path in ("/healthz", "/readyz"):
        r = wrk(server.url, path, None, sdk, args.seconds, args.connections, tmp, "h")
        print(line(f"GET {path} during analyses", r))
        out[path] = r
    stop.set()
    worker.join(600)
    if times:
        print(f"  ({len(times)} analyses of {args.analysis_units:,} units, "
              f"{sum(times) / len(times):.1f} s each)")  # fmt: skip
    else:
        print("  (no analysis finished while the probes ran)")
    return out


def verdicts(
    f_events: dict[str, float], s_events: dict[str, float], f_assign: dict[str, float],
    s_assign: dict[str, float], probes: dict[str, dict[str, float]],
    b_events: dict[str, float] | None, args: argparse.Namespace,
) -> list[tuple[str, str, bool]]:  # fmt: skip
    """The targets of the service: (what, measured, met)."""
    rate = s_events["rps"] * args.batch
    out = [
        ("events: >= 100,000 events/s", f"{rate:,.0f} events/s", rate >= 100_000),
        ("events: >= 50% of the floor's rate", f"{s_events['rps'] / f_events['rps']:.0%}",
         s_events["rps"] >= 0.5 * f_events["rps"]),
        ("events: p99 < 100 ms", f"{s_events['p99_ms']:.1f} ms", s_events["p99_ms"] < 100),
        ("assign: >= 50% of the floor's rate", f"{s_assign['rps'] / f_assign['rps']:.0%}",
         s_assign["rps"] >= 0.5 * f_assign["rps"]),
        ("assign: p99 <= 2x the floor's",
         f"{s_assign['p99_ms']:.1f} ms vs {f_assign['p99_ms']:.1f} ms",
         s_assign["p99_ms"] <= 2 * f_assign["p99_ms"]),
    ]  # fmt: skip
    for path, r in probes.items():
        out.append((f"{path} p99 < 20 ms during analyses", f"{r['p99_ms']:.1f} ms",
                    r["p99_ms"] < 20))  # fmt: skip
    if b_events is not None:
        share = b_events["rps"] / s_events["rps"]
        out.append((f"events at {args.stored:,} stored: >= 80% of empty", f"{share:.0%}",
                    share >= 0.8))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="unmeasured seconds before each scenario"
    )
    parser.add_argument("--batch", type=int, default=1000, help="events per POST")
    parser.add_argument(
        "--stored", type=int, default=10_000_000, help="also measure at N stored events (0: skip)"
    )
    parser.add_argument("--analysis-units", type=int, default=200_000)
    parser.add_argument("--sdk", action="store_true", help="add the SDK's local rates")
    args = parser.parse_args()
    global WARMUP
    WARMUP = args.warmup
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="shipit-bench-"))
    body = events_body(args.batch)
    print(f"wrk: {args.connections} connections, {args.seconds:g} s per scenario; "
          f"uvicorn, one process each; {os.cpu_count()} cores; "
          f"load average {_load()} at the start")  # fmt: skip

    print("framework floor (FastAPI validating the same bodies, storing nothing):")
    floor = Server(FLOOR)
    pid = floor.proc.pid
    try:
        f_events = wrk(floor.url, "/v1/events", body, "x", args.seconds, args.connections,
                       tmp, "f", pid)  # fmt: skip
        print(line(f"POST /v1/events ({args.batch:,})", f_events, args.batch))
        f_model = wrk(floor.url, "/v1/events-pydantic", body, "x", args.seconds,
                      args.connections, tmp, "fp", pid)  # fmt: skip
        print(line("  same, pydantic per row", f_model, args.batch))
        f_assign = wrk(floor.url, "/v1/assign", ASSIGN_BODY, "x", args.seconds,
                       args.connections, tmp, "fa", pid)  # fmt: skip
        print(line("POST /v1/assign (1 unit)", f_assign))
    finally:
        floor.stop()

    print("shipit, empty store:")
    fill_experiment(tmp / "main.duckdb", args.analysis_units)
    server, admin, sdk = start_shipit(tmp, "main")
    pid = server.proc.pid
    try:
        s_events = wrk(server.url, "/v1/events", body, sdk, args.seconds, args.connections,
                       tmp, "s", pid)  # fmt: skip
        print(line(f"POST /v1/events ({args.batch:,})", s_events, args.batch, f_events))
        # Drained before the next scenario, which then measures assignment alone.
        t0 = time.monotonic()
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {sdk}"}) as c:
            c.post("/v1/ingest/flush", timeout=600).raise_for_status()
        print(f"  (drain lag at the end: {time.monotonic() - t0:.2f} s to flush)")
        s_assign = wrk(server.url, "/v1/assign", ASSIGN_BODY, sdk, args.seconds,
                       args.connections, tmp, "sa", pid)  # fmt: skip
        print(line("POST /v1/assign (1 unit)", s_assign, 1, f_assign))
        probes = probes_during_analyses(server, admin, sdk, args, tmp)
        if args.sdk:
            from sdk_rates import print_sdk_rates

            print_sdk_rates(server.url, sdk)
    finally:
        server.stop()

    b_events = None
    if args.stored:
        print(f"shipit, {args.stored:,} events already stored:")
        t0 = time.monotonic()
        fill_events(tmp / "big.duckdb", args.stored)
        print(f"  (filled in {time.monotonic() - t0:.1f} s)")
        big, _, sdk = start_shipit(tmp, "big")
        try:
            b_events = wrk(big.url, "/v1/events", body, sdk, args.seconds, args.connections,
                           tmp, "b", big.proc.pid)  # fmt: skip
            print(line(f"POST /v1/events ({args.batch:,})", b_events, args.batch, f_events))
        finally:
            big.stop()
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"targets (load average {_load()} at the end):")
    for what, measured, met in verdicts(
        f_events, s_events, f_assign, s_assign, probes, b_events, args
    ):
        print(f"  {'PASS' if met else 'MISS'}  {what:<44} {measured}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
