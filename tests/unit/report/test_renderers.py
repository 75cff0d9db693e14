"""Terminal, Markdown, HTML and audience summaries show the verdict and its numbers."""

from __future__ import annotations

import re

import pytest

from shipit.errors import InputError
from shipit.report import render_html, render_markdown, summaries, summary, to_text
from shipit.report.charts import CHARTS, all_charts
from shipit.result.model import Analysis


def test_terminal_shows_verdict_lights_and_both_estimates(analysis: Analysis) -> None:
    text = to_text(analysis)
    assert "Keep running / iterate" in text
    assert "guardrail sessions" in text
    assert "+13.40%" in text  # raw
    assert "+7.10%" in text  # CUPED-adjusted
    assert "balance" in text


def test_markdown_has_the_verdict_table_and_every_audience(analysis: Analysis) -> None:
    md = render_markdown(analysis)
    assert md.startswith("# recommender-v2")
    assert "| watch_time | new_recommender | +13.40% |" in md
    for audience in ("executive", "product", "engineering", "data science"):
        assert f"## For {audience}" in md
    assert "🟡 **guardrail sessions**" in md


def test_summaries_speak_to_each_audience(analysis: Analysis) -> None:
    s = summaries(analysis)
    assert s["executive"][0].startswith("Keep running / iterate new_recommender")
    assert any("Risk:" in line and "sessions" in line for line in s["executive"])
    assert any("strongest light" in line for line in s["product"])
    assert any("[YELLOW]" in line for line in s["engineering"])
    assert any("CUPED +7.10%" in line for line in s["data_science"])
    assert any("true effects" in line for line in s["data_science"])
    with pytest.raises(InputError, match="audience"):
        summary(analysis, "board")


def test_html_is_self_contained_with_every_chart(analysis: Analysis) -> None:
    html = render_html(analysis)
    assert set(all_charts(analysis)) == set(CHARTS)
    for name in CHARTS:
        assert f'id="chart-{name}"' in html
    assert "<script src=" not in html  # plotly.js is inline, nothing fetched
    page = html.split("</script>", 1)[1]  # what follows the inline plotly.js library
    assert not re.search(r"""(src|href)=["']https?://""", page)
    assert "Plotly.newPlot" in html
    assert "guardrail uncertain" in html


def test_html_skips_charts_without_data(analysis: Analysis) -> None:
    bare = analysis.model_copy(update={"daily": (), "segments": (), "trust": ()})
    html = render_html(bare)
    assert 'id="chart-cumulative"' not in html
    assert 'id="chart-effects"' in html


def test_product_summary_does_not_ask_for_data_that_cannot_settle_it(analysis: Analysis) -> None:
    stuck = "extending cannot settle the guardrail: settling it needs about 155× the current"
    verdict = analysis.verdict.model_copy(
        update={"extra_units": None, "reasons": (*analysis.verdict.reasons, stuck)}
    )
    lines = summaries(analysis.model_copy(update={"verdict": verdict}))["product"]
    assert any(line.startswith("Next: decide on the current evidence") for line in lines)
    assert not any("collect more data" in line for line in lines)
