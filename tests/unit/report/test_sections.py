"""The one section model: what it holds, and that every renderer shows exactly its cells."""

from __future__ import annotations

import re
from pathlib import Path

from markupsafe import escape

import shipit.report
from shipit.report import build_report, render_html, render_markdown, to_text
from shipit.report.charts import CHARTS, all_charts
from shipit.report.sections import CHART_NEEDS, Report
from shipit.result.model import Analysis, Estimate, Verdict

SRC = Path(shipit.report.__file__).parent
DASHBOARD = SRC.parent / "server" / "dashboard"


def _cells(report: Report) -> set[str]:
    """Every pre-written table cell and item text of the report."""
    out = {cell for s in report.sections for t in s.tables for row in t.rows for cell in row}
    out |= {i.text for s in report.sections for i in s.items}
    return {c for c in out if c}


def test_sections_come_in_reading_order_and_only_with_content(analysis: Analysis) -> None:
    keys = [s.key for s in build_report(analysis).sections]
    assert keys == [
        "verdict", "lights", "effects", "bandit", "segments", "daily", "power", "truth", "legend",
        "for-executive", "for-product", "for-engineering", "for-data-science",
    ]  # fmt: skip
    bare = analysis.model_copy(
        update={
            "segments": (),
            "heterogeneity": (),
            "daily": (),
            "power": (),
            "true_effects": None,
            "bandit": None,
        }
    )
    assert [s.key for s in build_report(bare).sections][:5] == [
        "verdict", "lights", "effects", "legend", "for-executive",
    ]  # fmt: skip


def test_every_drawable_chart_belongs_to_exactly_one_section(analysis: Analysis) -> None:
    report = build_report(analysis)
    named = [c for s in report.sections for c in s.charts]
    assert sorted(named) == sorted(all_charts(analysis)) == sorted(CHARTS)
    assert set(CHART_NEEDS) == set(CHARTS)
    bare = analysis.model_copy(update={"daily": (), "segments": (), "trust": (), "bandit": None})
    named = [c for s in build_report(bare).sections for c in s.charts]
    assert sorted(named) == sorted(all_charts(bare)) == ["effects", "guardrails", "srm"]


def test_every_renderer_shows_every_cell_of_the_model(analysis: Analysis) -> None:
    cells = _cells(build_report(analysis))
    assert "+13.40%" in cells  # raw lift
    assert "[+6.51%, +7.69%]" in cells  # CUPED interval
    assert "1e-90" in cells  # p-value
    assert "15,000 / 15,000" in cells  # segment units
    md = render_markdown(analysis)
    html = render_html(analysis)
    text = " ".join(to_text(analysis, width=400).split())  # the terminal wraps long reasons
    for cell in cells:
        assert cell in md, cell
        assert str(escape(cell)) in html, cell
        assert " ".join(cell.split()) in text, cell


def test_effects_table_shows_only_the_columns_some_row_fills(analysis: Analysis) -> None:
    def heads(a: Analysis) -> list[str]:
        section = build_report(a).section("effects")
        assert section is not None
        return [c.name for c in section.tables[0].columns]

    assert heads(analysis)[-1] == "P(better)"
    assert "CUPED lift" in heads(analysis)
    plain = tuple(
        e.model_copy(update={"adjusted": None, "prob_better": None}) for e in analysis.effects
    )
    assert heads(analysis.model_copy(update={"effects": plain})) == [
        "metric", "variant", "raw lift", "raw interval", "p",
    ]  # fmt: skip


def test_an_underflowed_p_value_reads_the_same_everywhere(analysis: Analysis) -> None:
    zero = Estimate(rel_effect=0.1, rel_ci_low=0.05, rel_ci_high=0.15, p_value=0.0)
    effects = (analysis.effects[0].model_copy(update={"raw": zero}), *analysis.effects[1:])
    a = analysis.model_copy(update={"effects": effects})
    md = render_markdown(a)
    assert "| <1e-300 |" in md  # the effects table
    assert "p < 1e-300" in md  # the data-science summary (it used to write "p = 0")
    assert "<1e-300" in to_text(a)
    assert str(escape("<1e-300")) in render_html(a)


def test_missing_numbers_read_as_the_one_dash(analysis: Analysis) -> None:
    empty = analysis.effects[0].model_copy(update={"raw": Estimate(), "adjusted": None})
    a = analysis.model_copy(update={"effects": (empty,)})
    row = build_report(a).section("effects").tables[0].rows[0]  # type: ignore[union-attr]
    assert row[2:5] == ("—", "—", "—")
    assert "| watch_time | new_recommender | — | — | — |" in render_markdown(a)


def test_headline_carries_runner_up_and_segments(analysis: Analysis) -> None:
    verdict = Verdict(
        decision="ship_to_segment", variant="b", runner_up="c", segments=("country=fr",)
    )
    a = analysis.model_copy(update={"verdict": verdict})
    head = build_report(a).sections[0].headline
    assert head is not None
    assert (head.words, head.runner_up, head.segments) == (
        "Ship to the named segments only", "c", ("country=fr",),
    )  # fmt: skip
    assert "runner-up c" in to_text(a)
    assert "(runner-up `c`); segments `country=fr`" in render_markdown(a)
    assert "Segments: country=fr" in render_html(a)


def test_markdown_cells_escape_the_table_separator(analysis: Analysis) -> None:
    odd = analysis.effects[0].model_copy(update={"metric": "a|b"})
    md = render_markdown(analysis.model_copy(update={"effects": (odd,)}))
    assert "| a\\|b | new_recommender |" in md


# a Python format spec with a precision ({x:.2g}, "%.1f"|format, {:,}): what renderers must not do
FORMAT_SPEC = re.compile(r"""\{[^{}\n]*:[+\- ]?[,_]?(?:\.\d+)?[efg%,]\}|\|\s*format\b|\{:,\}""")


def test_no_renderer_writes_a_number_itself() -> None:
    renderers = [SRC / n for n in ("analysis_terminal.py", "markdown.py", "html.py")]
    renderers += [SRC / "stats_extras.py", SRC / "terminal.py", DASHBOARD / "pages.py"]
    renderers += sorted((SRC / "templates").glob("*.j2"))
    renderers += sorted((DASHBOARD / "templates").glob("*.j2"))
    for path in renderers:
        found = FORMAT_SPEC.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.name} formats numbers itself: {found}"


def test_a_narrow_terminal_stacks_wide_tables_and_breaks_no_number(analysis: Analysis) -> None:
    cells = {
        cell
        for s in build_report(analysis).sections
        for t in s.tables
        for row, spec in ((r, t.columns) for r in t.rows)
        for cell, col in zip(row, spec, strict=True)
        if col.numeric
    }
    for width in (80, 120):
        lines = to_text(analysis, width=width).splitlines()
        assert max(len(line) for line in lines) <= width
        joined = "\n".join(lines)
        for cell in cells:  # each number whole on one line (an interval may wrap at its space)
            for word in cell.split():
                assert re.search(rf"(^|[\s│]){re.escape(word)}($|[\s│])", joined, re.M), (
                    width,
                    word,
                )
    narrow = to_text(analysis, width=80)
    assert "watch_time · new_recommender" in narrow  # a stacked record's heading
    assert "[+11.05%, +15.75%]" in narrow
