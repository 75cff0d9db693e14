"""A real local webhook receiver (HTTP server in a thread) and harmful-guardrail data."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from shipit.sim import iter_chunks, scenario
from shipit.sim.storage import experiment_for, write_chunk
from shipit.spec import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import bulk_load


@dataclass
class Receiver:
    """Records every POST (headers, body) and answers with ``codes`` in turn (then 200).
    ``port`` 0 takes a free one; a given port brings a closed receiver up again there."""

    codes: list[int] = field(default_factory=list)
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    attempts: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.attempts += 1
                code = owner.codes.pop(0) if owner.codes else 200
                if code == 200:
                    owner.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """Where to send."""
        return f"http://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


def harmful_experiment(key: str, **monitoring: Any) -> Experiment:
    """The ecommerce scenario's spec (its page-load guardrail is breached) under ``key``."""
    base = experiment_for(scenario("ecommerce").info())
    return Experiment.model_validate({**base.to_dict(), "key": key, "monitoring": monitoring})


def start_with_data(repo: Any, store: Path, experiment: Experiment, n: int, seed: int) -> None:
    """Register and start ``experiment``, then store ``n`` simulated ecommerce users in its
    phase (20 ms slower pages in the treatment, against a 10 ms guardrail)."""
    repo.create(experiment)
    record = repo.start(experiment.key)
    info = scenario("ecommerce").info()
    started = record.phase.started_at.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    shift = started + timedelta(seconds=1) - info.start.to_pydatetime()
    engine = DuckDBEngine(store)
    try:
        with bulk_load(engine) as bulk:
            for chunk in iter_chunks("ecommerce", n, seed=seed, chunk_size=n):
                write_chunk(bulk, experiment.key, record.phase.number, chunk, shift)
    finally:
        engine.close()
