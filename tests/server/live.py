"""A shipit server on a free localhost port: uvicorn in a thread, or ``shipit serve`` in a
subprocess (for tests that kill it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


def _src() -> Path:
    """The source tree the tests import shipit from (so a subprocess runs the same code)."""
    import shipit

    return Path(shipit.__file__).absolute().parents[1]


SPEC_YAML = """\
key: checkout
name: Green checkout button
owner: growth
hypothesis: A green button raises conversion.
variants:
  - {key: control, weight: 0.5}
  - {key: green, weight: 0.5}
metrics:
  - {name: converted, event: purchase, aggregation: any}
  - {name: revenue, event: purchase, aggregation: sum, value: value}
primary_metric: converted
secondary_metrics: [revenue]
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 30.0, proc: Any = None) -> None:
    """Poll /healthz until the server answers (fails at once if ``proc`` exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server process exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"server at {url} did not start within {timeout}s")


@dataclass
class Live:
    """A running server with an admin and an SDK key."""

    url: str
    admin: str
    sdk: str
    database_url: str
    store: str
    app: Any = None
    read: str = ""

    def release_store(self) -> None:
        """Drain the ingestion log and close the store, so a test can open the file."""
        services = self.app.state.services
        services.ingest.close()
        services.engine.close()

    def client(self, key: str | None = None) -> httpx.Client:
        """An httpx client on the server, authenticated with ``key`` when given."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60.0)


class ThreadServer:
    """uvicorn serving ``create_app(settings)`` in a daemon thread."""

    def __init__(self, app: Any, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


LAUNCH = """
import sys
import uvicorn
from shipit.server import ServerSettings, create_app
port, database_url, store = int(sys.argv[1]), sys.argv[2], sys.argv[3]
settings = ServerSettings(port=port, database_url=database_url, store=store)
uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
"""


class ProcessServer:
    """The app under uvicorn in a subprocess (killable with SIGKILL); what ``shipit serve``
    runs, without the CLI's start-up."""

    def __init__(self, port: int, database_url: str, store: str) -> None:
        self.port = port
        self.args = [sys.executable, "-c", LAUNCH, str(port), database_url, store]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_src()), *sys.path])}
        self.proc = subprocess.Popen(self.args, env=env)
        wait_ready(f"http://127.0.0.1:{self.port}", proc=self.proc)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def sample_analysis() -> Any:
    """A saved analysis of the ``checkout`` experiment with every panel filled."""
    from shipit.result import model

    def est(rel: float, se: float, p: float) -> Any:
        return model.Estimate(
            abs_effect=rel / 10, abs_se=se / 10, abs_ci_low=(rel - 2 * se) / 10,
            abs_ci_high=(rel + 2 * se) / 10, rel_effect=rel, rel_se=se,
            rel_ci_low=rel - 1.96 * se, rel_ci_high=rel + 1.96 * se, p_value=p,
        )  # fmt: skip

    effects = [
        model.Effect(metric="converted", variant="green", control="control", kind="proportion",
                     n_control=50_000, n_variant=50_000, mean_control=0.1, mean_variant=0.105,
                     raw=est(0.05, 0.012, 3e-5)),
        model.Effect(metric="revenue", variant="green", control="control", n_control=50_000,
                     n_variant=50_000, mean_control=3.1, mean_variant=3.15,
                     raw=est(0.016, 0.02, 0.42)),
    ]  # fmt: skip
    daily = [
        model.DailyEffect(day=d, date=f"2026-11-{d + 1:02d}", metric="converted", variant="green",
                          estimate=est(0.05 + 0.05 / (d + 1), 0.04 / (d + 1) ** 0.5, 0.01),
                          bound_low=-0.2 / (d + 1) ** 0.5, bound_high=0.2 / (d + 1) ** 0.5)
        for d in range(10)
    ]  # fmt: skip
    segments = [
        model.SegmentEffect(dimension="country", segment=s, metric="converted", variant="green",
                            n_control=10_000, n_variant=10_000, estimate=est(r, 0.02, 0.01))
        for s, r in (("fr", 0.06), ("de", 0.04), ("us", 0.05))
    ]  # fmt: skip
    guardrails = [
        model.GuardrailResult(metric="revenue", variant="green", margin=0.02, estimate=0.016,
                              ci_low=-0.023, ci_high=0.055, p_non_inferior=0.04, light="green",
                              message="revenue is not worse by more than 2%")
    ]  # fmt: skip
    trust = [
        model.TrustCheck(name="srm", status="pass", message="split as planned",
                         statistic=0.4, p_value=0.52),
        model.TrustCheck(name="balance", status="pass", message="pre-period balanced", p_value=0.6),
    ]  # fmt: skip
    verdict = model.Verdict(decision="ship", variant="green",
                            reasons=("converted +5.0% [2.6%, 7.4%], p < 0.001",
                                     "guardrail revenue: not worse"))  # fmt: skip
    return model.Analysis(
        experiment="checkout", control="control", variants=("control", "green"),
        primary="converted", metrics=("converted", "revenue"), guardrail_metrics=("revenue",),
        units={"control": 50_000, "green": 50_000}, weights={"control": 0.5, "green": 0.5},
        effects=tuple(effects), segments=tuple(segments), daily=tuple(daily),
        trust=tuple(trust), guardrails=tuple(guardrails), verdict=verdict,
    )  # fmt: skip
