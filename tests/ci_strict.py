"""Under CI=true a test that needs a service (PostgreSQL, Spark, a browser) fails when it
would skip: CI must not stay green with less coverage because a service is absent.

Loaded by tests/conftest.py; skips of tests without those markers are left alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

SERVICES = ("postgres", "spark", "browser", "redis")


def is_ci() -> bool:
    """Whether the CI environment variable is set to a true value."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Turn the skip of a service-marked test into a failure that says which service (an
    error when it skipped in set-up, e.g. in a fixture or a skipif)."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not (report.skipped and is_ci()) or hasattr(report, "wasxfail"):
        return
    needs = [m for m in SERVICES if item.get_closest_marker(m) is not None]
    if not needs:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    reason = reason.removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = (
        f"CI=true and this test needs {', '.join(needs)}, but it skipped: {reason}. "
        "Start the service (see .ci/run) or unset CI to let it skip."
    )
