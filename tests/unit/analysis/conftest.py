"""Demo runs shared by the acceptance tests: each scenario through the real pipeline once."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipit.cli.demo_run import DemoResult, run_demo


@pytest.fixture(scope="session")
def recommender_run(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    out: Path = tmp_path_factory.mktemp("demo-recommender")
    return run_demo("recommender", 100_000, out, seed=0)


@pytest.fixture(scope="session")
def ecommerce_run(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo("ecommerce", 60_000, tmp_path_factory.mktemp("demo-ecommerce"), seed=3)


@pytest.fixture(scope="session")
def three_models_run(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo("three-models", 100_000, tmp_path_factory.mktemp("demo-three"), seed=4)
