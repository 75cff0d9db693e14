"""The HTML report renders in real headless Chromium: every chart drawn, no console errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shipit.decide.model import Analysis
from shipit.report import write_html
from shipit.report.charts import all_charts

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium not installed (apt-get install chromium)"
    ),
]


def render_in_chromium(page_file: Path, screenshot: Path) -> tuple[list[str], list[list], str]:
    """Open a report in headless Chromium: console errors, (chart, svg count) pairs, verdict."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
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
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return errors, drawn, verdict


def test_report_renders_every_chart_without_console_errors(
    analysis: Analysis, tmp_path: Path
) -> None:
    page_file = write_html(analysis, tmp_path / "report.html")
    errors, drawn, verdict = render_in_chromium(page_file, tmp_path / "report.png")
    assert errors == []
    assert {name for name, svgs in drawn if svgs > 0} == set(all_charts(analysis))
    assert "Keep running / iterate" in verdict
    assert (tmp_path / "report.png").stat().st_size > 10_000
