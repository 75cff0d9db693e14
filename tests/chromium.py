"""Headless Chromium for browser tests: where it is, how it starts, and one report check."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Flags for a root sandbox with no network beyond localhost.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium not installed (apt-get install chromium)"
    ),
]


def open_report(page_file: Path, screenshot: Path) -> tuple[list[str], list[Any], str]:
    """Load an HTML report; return console errors, (chart, drawn svgs) pairs and the verdict."""
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


# Geometry of every Plotly chart on a page as drawn, in CSS pixels: the chart's card, its
# svg, its plot areas (one per subplot), its markers and error bars, and its text boxes.
_GEOMETRY_JS = """() => {
  const box = el => { const r = el.getBoundingClientRect();
    return {x: r.left, y: r.top, r: r.right, b: r.bottom, w: r.width, h: r.height}; };
  return [...document.querySelectorAll('.js-plotly-plot')].map(gd => {
    const card = gd.closest('.chart-panel') || gd.closest('.card') || gd.parentElement;
    const texts = [];
    const add = (kind, el) => { const b = box(el);
      const text = (el.textContent || '').slice(0, 50);
      if (b.w > 0 && b.h > 0) texts.push({kind, text, ...b}); };
    gd.querySelectorAll('.g-gtitle .gtitle').forEach(e => add('title', e));
    gd.querySelectorAll('.legend .bg').forEach(e => add('legend', e));
    gd.querySelectorAll('.annotation-text-g text').forEach(e => add('subplot title', e));
    gd.querySelectorAll('.g-xtitle text, .g-ytitle text').forEach(e => add('axis title', e));
    gd.querySelectorAll('.xtick text').forEach(e => add('x label', e));
    gd.querySelectorAll('.ytick text').forEach(e => add('y label', e));
    const modebar = gd.querySelector('.modebar');
    return {
      chart: gd.id, card: box(card), svg: box(gd.querySelector('svg.main-svg')),
      areas: [...gd.querySelectorAll('.draglayer .nsewdrag')].map(box),
      points: [...gd.querySelectorAll('.scatterlayer .point')].map(box),
      errorbars: [...gd.querySelectorAll('.errorbar path')].map(box),
      modebar: modebar ? box(modebar) : null, texts,
    };
  });
}"""


def _inside(inner: dict[str, float], outer: dict[str, float], tol: float = 1.0) -> bool:
    return (
        inner["x"] >= outer["x"] - tol
        and inner["r"] <= outer["r"] + tol
        and inner["y"] >= outer["y"] - tol
        and inner["b"] <= outer["b"] + tol
    )


def _overlap(a: dict[str, float], b: dict[str, float], tol: float = 1.0) -> bool:
    return min(a["r"], b["r"]) - max(a["x"], b["x"]) > tol and (
        min(a["b"], b["b"]) - max(a["y"], b["y"]) > tol
    )


def layout_problems(charts: list[dict[str, Any]]) -> list[str]:
    """What is wrong with the charts as drawn: a chart wider than its card, a marker or
    error bar outside its plot area, a text box outside the chart or over another one
    (titles, legend, subplot and axis titles, tick labels, the toolbar)."""
    out: list[str] = []
    for c in charts:
        name, svg, card = c["chart"], c["svg"], c["card"]
        if not _inside(svg, card):
            out.append(f"{name}: drawn {svg['w']:.0f} px wide in a {card['w']:.0f} px card")
        for p in c["points"]:
            centre = {"x": p["x"] + p["w"] / 2, "y": p["y"] + p["h"] / 2}
            centre |= {"r": centre["x"], "b": centre["y"]}
            if not any(_inside(centre, a) for a in c["areas"]):
                out.append(f"{name}: a marker at ({centre['x']:.0f}, {centre['y']:.0f}) outside")
        for e in c["errorbars"]:
            if e["w"] > 0 and not any(_inside(e, a, 2.0) for a in c["areas"]):
                out.append(f"{name}: an error bar {e} outside the plot area")
        texts = list(c["texts"])
        for t in texts:
            if not _inside(t, svg):
                out.append(f"{name}: {t['kind']} {t['text']!r} cut off by the chart's edge")
        if c["modebar"] is not None:
            texts.append({"kind": "toolbar", "text": "", **c["modebar"]})
        for i, a in enumerate(texts):
            for b in texts[i + 1 :]:
                same_axis = a["kind"] == b["kind"] and a["kind"].endswith("label")
                if not same_axis and _overlap(a, b):
                    out.append(
                        f"{name}: {a['kind']} {a['text']!r} overlaps {b['kind']} {b['text']!r}"
                    )
    return out


@contextmanager
def launched() -> Iterator[Any]:
    """One headless Chromium for several pages (a launch costs seconds)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def chart_layout(
    browser: Any, url: str, width: int, screenshot: Path, *, context: Any = None
) -> list[str]:
    """Open ``url`` at a ``width`` px window, wait for every chart's first paint (no
    resize), keep a full-page screenshot and return the charts' layout problems.
    ``context`` (a browser context, e.g. one holding a login) opens the page instead."""
    page = (context or browser).new_page()
    try:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        page.wait_for_function(
            "document.querySelectorAll('.js-plotly-plot').length > 0 && "
            "[...document.querySelectorAll('.js-plotly-plot')].every("
            "g => g.querySelector('svg.main-svg'))"
        )
        charts = page.evaluate(_GEOMETRY_JS)
        page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.close()
    return layout_problems(charts)
