"""The dashboard's experiment page as first painted in headless Chromium at 1000, 1400
and 1920 px: every chart fits its card, every marker and error bar lies inside its plot
area, no text box overlaps another or is cut off. Screenshots kept under test-artifacts/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chromium import BROWSER_MARKS, chart_layout, launched
from server.live import SPEC_YAML, Live
from shipit.cli.demo_run import run_demo
from shipit.result.schema import to_json

pytestmark = BROWSER_MARKS

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard-layout"


@pytest.fixture(scope="module")
def signed_in(live_module: Live, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A browser context signed in with the read key, on a server whose experiment holds
    the recommender demo's analysis (every chart: effects, cumulative, segments,
    guardrails, sample ratio, balance)."""
    live = live_module
    with live.client(live.admin) as c:
        assert c.post("/v1/experiments", json={"yaml": SPEC_YAML}).status_code == 201
    demo = run_demo("recommender", 6_000, tmp_path_factory.mktemp("demo") / "d", seed=1)
    live.app.state.services.analyses.save("checkout", to_json(demo.analysis), actor="test")
    with launched() as browser:
        context = browser.new_context()
        page = context.new_page()
        page.goto(live.url + "/login?next=/")
        page.fill("#key", live.read)
        page.click("#login-submit")
        page.wait_for_selector("#experiments")
        page.close()
        yield browser, context
        context.close()


@pytest.mark.parametrize("width", [1000, 1400, 1920])
def test_dashboard_charts_are_laid_out_on_first_paint(
    live_module: Live, signed_in: Any, width: int
) -> None:
    out = Path(os.environ.get("SCREENSHOTS_DIR", ARTIFACTS))
    out.mkdir(parents=True, exist_ok=True)
    browser, context = signed_in
    shot = out / f"experiment-{width}.png"
    url = live_module.url + "/experiments/checkout"
    assert chart_layout(browser, url, width, shot, context=context) == []
    assert shot.stat().st_size > 10_000
