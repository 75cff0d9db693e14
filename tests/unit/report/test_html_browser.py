"""The HTML report renders in real headless Chromium: every chart drawn, no console errors."""

from __future__ import annotations

from pathlib import Path

from chromium import BROWSER_MARKS, open_report
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
