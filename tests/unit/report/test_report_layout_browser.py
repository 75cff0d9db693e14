"""The HTML report of each demo scenario, and of a served bandit, as first painted in
headless Chromium at 1000, 1400 and 1920 px: every chart fits its card, every marker and
error bar lies inside its plot area, and no text box (title, legend, subplot and axis
titles, tick labels, the toolbar) overlaps another or is cut off. Screenshots are kept
under ``test-artifacts/``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from banditdemo import bandit_analysis
from chromium import BROWSER_MARKS, chart_layout, launched
from shipit.cli.demo_run import run_demo
from shipit.report import write_html

pytestmark = BROWSER_MARKS

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "report-layout"
SCENARIOS = ("recommender", "ecommerce", "three-models", "bandit")


def artifacts() -> Path:
    """Where screenshots go: $SCREENSHOTS_DIR when set, else test-artifacts/ (gitignored)."""
    out = Path(os.environ.get("SCREENSHOTS_DIR", ARTIFACTS))
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each scenario's HTML report at a small seeded size (seconds to simulate); the
    bandit is ``examples/bandit.yaml`` served four periods (its weights and estimates)."""
    out = {}
    for scenario in SCENARIOS:
        folder = tmp_path_factory.mktemp(scenario)
        if scenario == "bandit":
            analysis = bandit_analysis()
        else:
            analysis = run_demo(scenario, 6_000, folder / "demo", seed=1).analysis
        out[scenario] = write_html(analysis, folder / "report.html")
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as b:
        yield b


@pytest.mark.parametrize("width", [1000, 1400, 1920])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_demo_report_charts_are_laid_out_on_first_paint(
    browser: Any, reports: dict[str, Path], scenario: str, width: int
) -> None:
    shot = artifacts() / f"{scenario}-{width}.png"
    problems = chart_layout(browser, reports[scenario].as_uri(), width, shot)
    assert problems == []
    assert shot.stat().st_size > 10_000
