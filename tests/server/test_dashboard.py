"""The dashboard in real headless Chromium: pages load without console errors, charts are
drawn, the planner computes, links navigate; a screenshot of each page is kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chromium import ARGS, BROWSER_MARKS, CHROMIUM
from server.live import SPEC_YAML, Live, sample_analysis
from shipit.result.schema import to_json

pytestmark = BROWSER_MARKS


def _shots(tmp_path: Path) -> Path:
    """Where screenshots go: $SCREENSHOTS_DIR when set, else the test's directory."""
    out = Path(os.environ.get("SCREENSHOTS_DIR", tmp_path / "screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_dashboard_pages_in_chromium(live: Live, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with live.client(live.admin) as c:
        assert c.post("/v1/experiments", json={"yaml": SPEC_YAML}).status_code == 201
        c.post("/v1/experiments/checkout/start")
        draft = SPEC_YAML.replace("key: checkout", "key: search-ranking").replace(
            "growth", "search"
        )
        c.post("/v1/experiments", json={"yaml": draft})
    live.app.state.services.analyses.save("checkout", to_json(sample_analysis()), actor="test")
    shots = _shots(tmp_path)
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            # The dashboard needs a read key: a visitor is sent to /login, and back after it.
            page.goto(live.url + "/")
            page.wait_for_url("**/login?next=/")
            page.fill("#key", live.read)
            page.click("#login-submit")
            page.wait_for_selector("#experiments")
            rows = page.inner_text("#experiments")
            assert "checkout" in rows
            assert "search-ranking" in rows
            assert "not analysed" in rows
            assert page.locator("span.light.green").count() == 1
            page.screenshot(path=str(shots / "experiments.png"), full_page=True)

            page.click("a.experiment-link:text('checkout')")
            page.wait_for_url("**/experiments/checkout")
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3")
            drawn = page.eval_on_selector_all(
                ".chart", "els => els.map(e => [e.id, e.querySelectorAll('svg.main-svg').length])"
            )
            verdict = page.inner_text("#verdict")
            assert "start" in page.inner_text("#history")
            page.screenshot(path=str(shots / "experiment.png"), full_page=True)
            assert "Ship · green" in verdict  # the decision in words, as every report writes it
            effects = page.inner_text("#effects")
            assert "+5.00%" in effects
            assert "[+2.65%, +7.35%]" in effects  # the same cells as the HTML report's
            assert "guardrail revenue" in page.inner_text("#lights")
            assert {"plot-effects", "plot-cumulative", "plot-segments"} <= {
                i for i, n in drawn if n > 0
            }
            assert all(n > 0 for _, n in drawn), drawn

            page.click("#nav-planner")
            page.wait_for_url("**/planner")
            page.select_option("#kind", "proportion")
            page.fill("#baseline", "0.1")
            page.fill("#mde", "0.05")
            page.fill("#daily_units", "2000")
            page.click("#compute")
            page.wait_for_selector("#planner-result svg.main-svg")
            per_variant = int(page.inner_text("#per-variant").replace(",", ""))
            page.screenshot(path=str(shots / "planner.png"), full_page=True)

            page.click("#nav-experiments")
            page.wait_for_selector("#experiments")
        finally:
            browser.close()
    assert errors == []
    # 10% → 10.5% at alpha 0.05 and power 0.8: statsmodels (arcsine effect size) says ~57,756.
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = proportion_effectsize(0.105, 0.1)
    assert per_variant == pytest.approx(
        NormalIndPower().solve_power(h, alpha=0.05, power=0.8), rel=0.01
    )
    for name in ("experiments", "experiment", "planner"):
        assert (shots / f"{name}.png").stat().st_size > 10_000
