"""The report of a shadow run: agreement, differences, latency and offline metrics.

``shadow_sections(analysis)`` lays out ``Analysis.shadow`` as report sections (every number
written by ``shipit.result.format``); ``build_report`` uses them in place of the effect
sections when the analysis is a shadow run. The histogram of the differences is a table
here (every renderer shows it) and a chart in HTML (``shadow_chart``).
"""

from __future__ import annotations

from shipit.report.section_tables import Column, Table
from shipit.report.sections import Item, Report, Section
from shipit.report.shadow_chart import SHADOW_CHART
from shipit.result import format as fmt
from shipit.result.model import Analysis
from shipit.result.shadow import ShadowEstimate, ShadowResult

__all__ = [
    "SHADOW_CHART",
    "histogram_rows",
    "shadow_parts",
    "shadow_report",
    "shadow_sections",
]

_BAR = 30  # characters of the longest histogram bar


def _with_ci(e: ShadowEstimate, write: fmt.Fmt = fmt.num) -> str:
    return fmt.estimate(e.estimate, e.ci_low, e.ci_high, write)


def _table(columns: list[tuple[str, bool]], rows: list[list[str]], caption: str) -> Table:
    return Table(
        tuple(Column(n, numeric) for n, numeric in columns), tuple(map(tuple, rows)), caption
    )


def histogram_rows(edges: tuple[float, ...], counts: tuple[int, ...]) -> list[list[str]]:
    """One row per bin: its range, count, share and a bar of ``█``."""
    total = sum(counts) or 1
    top = max(counts, default=0) or 1
    return [
        [
            f"[{fmt.num(edges[i])}, {fmt.num(edges[i + 1])}{']' if i == len(counts) - 1 else ')'}",
            fmt.count(c),
            fmt.share(c / total),
            "█" * round(_BAR * c / top),
        ]
        for i, c in enumerate(counts)
    ]


def _summary(r: ShadowResult) -> list[tuple[str, str]]:
    level = fmt.share(r.level, 0)
    return [
        ("production", f"{r.production} (served to every unit)"),
        ("candidate", f"{r.candidate} (logged, never served)"),
        ("output", r.output),
        ("requests", f"{fmt.count(r.requests)} from {fmt.count(r.units)} units"),
        ("paired", f"{fmt.count(r.paired)} with both outputs, {fmt.count(r.labelled)} labelled"),
        ("agreement", f"{_with_ci(r.agreement, fmt.share)} ({level} interval); {r.rule}"),
    ]


def _latency(r: ShadowResult) -> Table | None:
    if not any(x.quantiles for x in r.latency):
        return None
    qs = next(x.quantiles for x in r.latency if x.quantiles)
    columns = [("model", False), ("requests", True)]
    columns += [(f"p{100 * q.q:g} (ms)", True) for q in qs]
    rows = []
    for x in r.latency:
        cells = [f"{x.model} ({x.variant})", fmt.count(x.requests)]
        cells += [fmt.estimate(q.estimate, q.ci_low, q.ci_high, fmt.num) for q in x.quantiles]
        cells += [fmt.MISSING] * (len(columns) - len(cells))
        rows.append(cells)
    caption = f"Latency quantiles with {fmt.share(r.level, 0)} intervals"
    return _table(columns, rows, caption)


def _offline(r: ShadowResult) -> Table | None:
    if not r.offline:
        return None
    columns = [
        ("metric", False),
        (r.production, True),
        (r.candidate, True),
        ("candidate − production", True),
        ("p", True),
    ]
    rows = [
        [
            f"{m.metric} ({'higher' if m.higher_is_better else 'lower'} is better)",
            _with_ci(m.production),
            _with_ci(m.candidate),
            _with_ci(m.difference, fmt.signed),
            fmt.p_value(m.p_value),
        ]
        for m in r.offline
    ]
    caption = (
        f"Offline metrics against the labels ({fmt.count(r.labelled)} requests), "
        f"paired by request, {fmt.share(r.level, 0)} intervals"
    )
    return _table(columns, rows, caption)


def shadow_sections(r: ShadowResult) -> list[tuple[str, str, list[tuple[str, str]], list[Table]]]:
    """(key, title, items, tables) of each shadow section, in reading order."""
    out: list[tuple[str, str, list[tuple[str, str]], list[Table]]] = []
    tables = [t for t in (_latency(r), _offline(r)) if t is not None]
    out.append(("shadow", "Shadow run", _summary(r), tables))
    d = r.difference
    if d is not None:
        items = [
            ("measure", d.measure),
            ("mean", f"{_with_ci(d.mean, fmt.signed)} ({fmt.share(r.level, 0)} interval)"),
            ("range", fmt.interval(d.minimum, d.maximum, fmt.signed)),
        ]
        quantiles = _table(
            [("quantile", False), ("value", True)],
            [[f"{100 * q.q:g}%", fmt.signed(q.estimate)] for q in d.quantiles],
            f"Quantiles of the {d.measure}",
        )
        histogram = _table(
            [("bin", False), ("requests", True), ("share", True), ("", False)],
            histogram_rows(d.edges, d.counts),
            f"Histogram of the {d.measure}",
        )
        out.append(("shadow-differences", "Differences", items, [quantiles, histogram]))
    if r.disagreements:
        table = _table(
            [(r.production, False), (r.candidate, False), ("requests", True)],
            [[x.production, x.candidate, fmt.count(x.requests)] for x in r.disagreements],
            "The most frequent disagreements",
        )
        out.append(("shadow-disagreements", "Disagreements", [], [table]))
    return out


def shadow_parts(a: Analysis) -> tuple[Section, ...]:
    """The shadow sections of ``a`` as report sections (none when it is not a shadow run)."""
    if a.shadow is None:
        return ()
    return tuple(
        Section(
            key,
            title,
            items=tuple(Item(text, label) for label, text in items),
            item_columns=("quantity", "value") if items else None,
            tables=tuple(tables),
            charts=(SHADOW_CHART,) if key == "shadow-differences" else (),
        )
        for key, title, items, tables in shadow_sections(a.shadow)
    )


def shadow_report(a: Analysis, verdict: Section, notes: Section | None) -> Report:
    """The whole report of a shadow run: the verdict, the shadow sections, the notes."""
    assert a.shadow is not None
    r = a.shadow
    subtitle = (
        f"shadow run · {r.output} outputs · production {r.production} · "
        f"candidate {r.candidate} (never served)"
    )
    parts = (verdict, *shadow_parts(a), *((notes,) if notes is not None else ()))
    return Report(title=a.experiment, subtitle=subtitle, sections=parts)
