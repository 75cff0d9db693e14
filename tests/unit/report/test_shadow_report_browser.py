"""The HTML report of a shadow run as first painted in headless Chromium at 1000, 1400 and
1920 px: the histogram fits its card and no text overlaps or is cut off."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chromium import BROWSER_MARKS, chart_layout, launched
from shipit.analysis.pipeline import analyze
from shipit.report import write_html
from shipit.sim.shadow import simulate_scores
from shipit.spec import Experiment
from shipit.store import EVENTS, DuckDBEngine
from shipit.store.tables import SHADOW

pytestmark = BROWSER_MARKS

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "report-layout"


def artifacts() -> Path:
    """Where screenshots go: $SCREENSHOTS_DIR when set, else test-artifacts/ (gitignored)."""
    out = Path(os.environ.get("SCREENSHOTS_DIR", ARTIFACTS))
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim = simulate_scores(2, units=500)
    engine = DuckDBEngine()
    engine.append(SHADOW, sim.shadow_table("ranker-shadow").to_batches())
    engine.append(EVENTS, sim.events_table("label").to_batches())
    exp = Experiment.model_validate(
        {
            "key": "ranker-shadow",
            "type": "shadow",
            "variants": [{"key": "prod", "weight": 1.0}, {"key": "cand", "weight": 0.0}],
            "shadow": {"tolerance": 0.02, "label": {"event": "label"}},
        }
    )
    return write_html(analyze(exp, engine), tmp_path_factory.mktemp("shadow") / "report.html")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as b:
        yield b


@pytest.mark.parametrize("width", [1000, 1400, 1920])
def test_shadow_report_is_laid_out_on_first_paint(browser: Any, report: Path, width: int) -> None:
    assert 'id="chart-shadow_differences"' in report.read_text()
    shot = artifacts() / f"shadow-{width}.png"
    assert chart_layout(browser, report.as_uri(), width, shot) == []
    assert shot.stat().st_size > 10_000
