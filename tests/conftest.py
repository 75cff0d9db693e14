"""Shared fixtures: a seeded random generator and a clean environment for every test."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# Property tests draw the same examples on every run, so CI is reproducible; set
# HYPOTHESIS_PROFILE=explore to draw new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Under CI=true, a PostgreSQL, Spark or browser test that would skip fails instead; the fuzz
# counts print at the end (added up across pytest-xdist workers).
pytest_plugins = ["ci_strict", "server.fuzzstats"]

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator seeded the same way in every test run."""
    return np.random.default_rng(20261122)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SHIPIT_* setting leaks into a test; each test runs in its own directory."""
    for key in list(os.environ):
        if key.startswith("SHIPIT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def shared_data() -> Path:
    """The public data sets beside the project; skips where they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data sets not found at {SHARED_DATA}")
    return SHARED_DATA


def _runs_spark(path: str) -> bool:
    """Whether a test file under tests/engines starts or uses the local SparkSession."""
    file = Path(path)
    return file.parent.name == "engines" and "spark" in file.read_text(encoding="utf-8").lower()


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """Files as units of work (``--dist loadfile``), but every Spark file on one worker, so
    the run starts one JVM rather than one per worker (each start costs about half a minute)."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SparkTogether(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "spark files" if _runs_spark(str(config.rootpath / path)) else path

    return SparkTogether(config, log)
