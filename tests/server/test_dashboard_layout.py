"""The dashboard's experiment page as first painted in headless Chromium at 1000, 1400
and 1920 px: every chart fits its card, every marker and error bar lies inside its plot
area, no text box overlaps another or is cut off. Screenshots kept under test-artifacts/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from banditdemo import SPEC, bandit_analysis
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
    guardrails, sample ratio, balance), and a bandit's (its weights and estimates)."""
    live = live_module
    with live.client(live.admin) as c:
        assert c.post("/v1/experiments", json={"yaml": SPEC_YAML}).status_code == 201
        bandit_yaml = SPEC.read_text(encoding="utf-8")
        assert c.post("/v1/experiments", json={"yaml": bandit_yaml}).status_code == 201
    demo = run_demo("recommender", 6_000, tmp_path_factory.mktemp("demo") / "d", seed=1)
    saved = live.app.state.services.analyses
    saved.save("checkout", to_json(demo.analysis), actor="test")
    saved.save("headline-bandit", to_json(bandit_analysis()), actor="test")
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
@pytest.mark.parametrize("key", ["checkout", "headline-bandit"])
def test_dashboard_charts_are_laid_out_on_first_paint(
    live_module: Live, signed_in: Any, key: str, width: int
) -> None:
    out = Path(os.environ.get("SCREENSHOTS_DIR", ARTIFACTS))
    out.mkdir(parents=True, exist_ok=True)
    browser, context = signed_in
    shot = out / f"{'experiment' if key == 'checkout' else key}-{width}.png"
    url = live_module.url + f"/experiments/{key}"
    assert chart_layout(browser, url, width, shot, context=context) == []
    assert shot.stat().st_size > 10_000


def test_dashboard_draws_the_bandit_charts(live_module: Live, signed_in: Any) -> None:
    _, context = signed_in
    page = context.new_page()
    try:
        page.goto(live_module.url + "/experiments/headline-bandit")
        page.wait_for_selector("#plot-bandit_estimates .main-svg")
        drawn = page.eval_on_selector_all(".js-plotly-plot", "els => els.map(e => e.id)")
    finally:
        page.close()
    assert {"plot-bandit_weights", "plot-bandit_estimates"} <= set(drawn)
