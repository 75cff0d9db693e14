"""The HTML report renders in real headless Chromium: every chart drawn, no console errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from chromium import ARGS, BROWSER_MARKS, CHROMIUM, open_report
from shipit.report import write_html
from shipit.report.charts import all_charts
from shipit.result.model import Analysis

pytestmark = BROWSER_MARKS


def test_report_renders_every_chart_without_console_errors(
    analysis: Analysis, tmp_path: Path
) -> None:
    page_file = write_html(analysis, tmp_path / "report.html")
    errors, drawn, verdict = open_report(page_file, tmp_path / "report.png")
    assert errors == []
    assert {name for name, svgs in drawn if svgs > 0} == set(all_charts(analysis))
    assert "Keep running / iterate" in verdict
    assert (tmp_path / "report.png").stat().st_size > 10_000


def _chart_widths(page_file: Path, width: int, screenshot: Path) -> list[tuple[str, int, int]]:
    """(chart, card width, drawn svg width) of every chart as first drawn at ``width`` px."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(page_file.as_uri())
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length > 0")
            rows = page.eval_on_selector_all(
                ".chart",
                "els => els.map(e => [e.dataset.chart, e.getBoundingClientRect().width,"
                " Number(e.querySelector('svg.main-svg').getAttribute('width'))])",
            )
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return [(name, round(card), round(svg)) for name, card, svg in rows]


@pytest.mark.parametrize("width", [1000, 1400, 1920])
def test_every_chart_fits_its_card_on_first_paint(
    analysis: Analysis, tmp_path: Path, width: int
) -> None:
    # no resize: a chart drawn before its grid's later charts exist must still fit its card
    page_file = write_html(analysis, tmp_path / "report.html")
    rows = _chart_widths(page_file, width, tmp_path / f"report-{width}.png")
    assert {name for name, _, _ in rows} == set(all_charts(analysis))
    too_wide = [(name, card, svg) for name, card, svg in rows if svg > card + 1]
    assert too_wide == []
