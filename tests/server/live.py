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
