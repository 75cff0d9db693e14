"""The CI=true rule: service-marked tests fail instead of skipping; others still skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PYTEST = [sys.executable, "-m", "pytest", "-p", "ci_strict", "-p", "no:cacheprovider", "-rA", "-q"]

SAMPLE = """
import pytest

@pytest.mark.postgres
def test_needs_postgres():
    pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")

@pytest.mark.spark
@pytest.mark.skipif(True, reason="no java")
def test_needs_spark():
    pass

@pytest.fixture
def browser():
    pytest.skip("no chromium")

@pytest.mark.browser
def test_needs_a_browser(browser):
    pass

def test_plain_skip():
    pytest.skip("nothing to do with a service")

@pytest.mark.postgres
def test_postgres_that_runs():
    pass

@pytest.mark.postgres
@pytest.mark.xfail(reason="known", strict=True)
def test_postgres_xfail():
    raise AssertionError
"""


def _run(tmp_path: Path, ci: str | None, *args: str) -> tuple[int, str]:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    # Not the outer run's CI flag, nor its xdist worker variables when the suite runs in one.
    env = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("PYTEST_XDIST")}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    # Only the plugins the sample needs: loading every installed one took seconds per run.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if "-n" in args:
        args = ("-p", "xdist.plugin", *args)
    done = subprocess.run(
        [*PYTEST, *args, "--override-ini", "markers=postgres\n spark\n browser", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    return done.returncode, done.stdout


@pytest.mark.parametrize(
    ("ci", "args"), [("true", ()), ("1", ()), ("TRUE", ()), ("true", ("-n", "2"))]
)
def test_service_skips_fail_under_ci(tmp_path: Path, ci: str, args: tuple[str, ...]) -> None:
    """The same outcome when the tests run in pytest-xdist workers (the suite's default)."""
    code, out = _run(tmp_path, ci, *args)
    assert code == 1
    # A skip in the test body fails it; a skip in set-up (fixture, skipif) makes an error.
    assert "1 failed, 1 passed, 1 skipped, 1 xfailed, 2 errors" in out, out
    assert "FAILED test_sample.py::test_needs_postgres" in out, out
    assert "ERROR test_sample.py::test_needs_spark" in out, out
    assert "ERROR test_sample.py::test_needs_a_browser" in out, out
    assert "this test needs postgres, but it skipped: PostgreSQL at 127.0.0.1" in out
    assert "this test needs spark, but it skipped: no java." in out
    assert "SKIPPED [1] test_sample.py" in out
    assert "nothing to do with a service" in out


@pytest.mark.parametrize("ci", [None, "false", ""])
def test_service_tests_skip_outside_ci(tmp_path: Path, ci: str | None) -> None:
    code, out = _run(tmp_path, ci)
    assert code == 0
    assert "1 passed, 4 skipped, 1 xfailed" in out, out
