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
