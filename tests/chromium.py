"""Headless Chromium for browser tests: where it is, how it starts, and one report check."""

from __future__ import annotations

import shutil
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
