"""Counts of the bounded fuzz runs (schemathesis and the hand-written corpus), printed at the
end of the test session: cases tried, 5xx replies, crashes (dropped connections, timeouts).

Loaded as a plugin by tests/conftest.py, so the summary prints in the main process: under
pytest-xdist each worker hands its counts back and the main process adds them up.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

__all__ = ["FUZZ", "record"]

FUZZ: Counter[str] = Counter()


def record(source: str, status: int | None) -> None:
    """Count one case: its reply status, or None when the server did not answer."""
    FUZZ[f"{source} cases"] += 1
    if status is None:
        FUZZ[f"{source} crashes"] += 1
    elif status >= 500:
        FUZZ[f"{source} 5xx"] += 1


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In an xdist worker: hand this worker's counts to the main process."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["fuzz"] = dict(FUZZ)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """In the xdist main process: add up the counts of a worker that finished."""
    FUZZ.update(getattr(node, "workeroutput", {}).get("fuzz", {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Report the fuzz runs: cases tried, 5xx count and crashes, per source."""
    for source in sorted({k.rsplit(" ", 1)[0] for k in FUZZ}):
        terminalreporter.write_line(
            f"fuzz {source}: {FUZZ[source + ' cases']} cases tried, "
            f"{FUZZ[source + ' 5xx']} 5xx, {FUZZ[source + ' crashes']} crashes"
        )
