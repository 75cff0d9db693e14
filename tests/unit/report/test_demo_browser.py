"""A demo's HTML report renders in headless Chromium: every chart, no console errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_html_browser import ARGS, CHROMIUM

from shipit.cli.demo_run import run_demo
from shipit.report import write_html
from shipit.report.charts import all_charts

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium not installed (apt-get install chromium)"
    ),
]


def test_demo_report_renders_every_chart(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    analysis = run_demo("recommender", 20_000, tmp_path / "demo", seed=2).analysis
    page_file = write_html(analysis, tmp_path / "report.html")
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length > 0")
            drawn = page.eval_on_selector_all(
                ".chart",
                "els => els.map(e => [e.dataset.chart, e.querySelectorAll('svg.main-svg').length])",
            )
            verdict = page.inner_text("#verdict")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    charts = set(all_charts(analysis))
    assert charts == {"effects", "cumulative", "segments", "guardrails", "srm", "balance"}
    assert {name for name, svgs in drawn if svgs > 0} == charts
    assert "new_recommender" in verdict
    assert (tmp_path / "report.png").stat().st_size > 10_000
