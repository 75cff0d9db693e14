"""A demo's HTML report renders in headless Chromium: every chart, no console errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_html_browser import CHROMIUM, render_in_chromium

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
    analysis = run_demo("recommender", 20_000, tmp_path / "demo", seed=2).analysis
    page_file = write_html(analysis, tmp_path / "report.html")
    errors, drawn, verdict = render_in_chromium(page_file, tmp_path / "report.png")
    assert errors == []
    charts = set(all_charts(analysis))
    assert charts == {"effects", "cumulative", "segments", "guardrails", "srm", "balance"}
    assert {name for name, svgs in drawn if svgs > 0} == charts
    assert "new_recommender" in verdict
    assert (tmp_path / "report.png").stat().st_size > 10_000
