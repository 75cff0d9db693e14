"""The dashboard in real headless Chromium: pages load without console errors, charts are
drawn, the planner computes, links navigate; a screenshot of each page is kept."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from server.live import SPEC_YAML, Live

HAS_REPORT = all(
    importlib.util.find_spec(m) is not None for m in ("shipit.report.json", "shipit.decide.model")
)
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


def _analysis() -> Any:
    """A saved analysis of the ``checkout`` experiment with every panel filled."""
    model = pytest.importorskip("shipit.decide.model")

    def est(rel: float, se: float, p: float) -> Any:
        return model.Estimate(
            abs_effect=rel / 10, abs_se=se / 10, abs_ci_low=(rel - 2 * se) / 10,
            abs_ci_high=(rel + 2 * se) / 10, rel_effect=rel, rel_se=se,
            rel_ci_low=rel - 1.96 * se, rel_ci_high=rel + 1.96 * se, p_value=p,
        )  # fmt: skip

    effects = [
        model.Effect(metric="converted", variant="green", control="control", kind="proportion",
                     n_control=50_000, n_variant=50_000, mean_control=0.1, mean_variant=0.105,
                     raw=est(0.05, 0.012, 3e-5)),
        model.Effect(metric="revenue", variant="green", control="control", n_control=50_000,
                     n_variant=50_000, mean_control=3.1, mean_variant=3.15,
                     raw=est(0.016, 0.02, 0.42)),
    ]  # fmt: skip
    daily = [
        model.DailyEffect(day=d, date=f"2026-11-{d + 1:02d}", metric="converted", variant="green",
                          estimate=est(0.05 + 0.05 / (d + 1), 0.04 / (d + 1) ** 0.5, 0.01),
                          bound_low=-0.2 / (d + 1) ** 0.5, bound_high=0.2 / (d + 1) ** 0.5)
        for d in range(10)
    ]  # fmt: skip
    segments = [
        model.SegmentEffect(dimension="country", segment=s, metric="converted", variant="green",
                            n_control=10_000, n_variant=10_000, estimate=est(r, 0.02, 0.01))
        for s, r in (("fr", 0.06), ("de", 0.04), ("us", 0.05))
    ]  # fmt: skip
    guardrails = [
        model.GuardrailResult(metric="revenue", variant="green", margin=0.02, estimate=0.016,
                              ci_low=-0.023, ci_high=0.055, p_non_inferior=0.04, light="green",
                              message="revenue is not worse by more than 2%")
    ]  # fmt: skip
    trust = [
        model.TrustCheck(name="srm", status="pass", message="split as planned",
                         statistic=0.4, p_value=0.52),
        model.TrustCheck(name="balance", status="pass", message="pre-period balanced", p_value=0.6),
    ]  # fmt: skip
    verdict = model.Verdict(decision="ship", variant="green",
                            reasons=("converted +5.0% [2.6%, 7.4%], p < 0.001",
                                     "guardrail revenue: not worse"))  # fmt: skip
    return model.Analysis(
        experiment="checkout", control="control", variants=("control", "green"),
        primary="converted", metrics=("converted", "revenue"), guardrail_metrics=("revenue",),
        units={"control": 50_000, "green": 50_000}, weights={"control": 0.5, "green": 0.5},
        effects=tuple(effects), segments=tuple(segments), daily=tuple(daily),
        trust=tuple(trust), guardrails=tuple(guardrails), verdict=verdict,
    )  # fmt: skip


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
    if HAS_REPORT:
        from shipit.report.json import to_json

        live.app.state.services.analyses.save("checkout", to_json(_analysis()), actor="test")
    shots = _shots(tmp_path)
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            page.goto(live.url + "/")
            rows = page.inner_text("#experiments")
            assert "checkout" in rows
            assert "search-ranking" in rows
            assert "not analysed" in rows
            assert page.locator("span.light.green").count() == int(HAS_REPORT)
            page.screenshot(path=str(shots / "experiments.png"), full_page=True)

            page.click("a.experiment-link:text('checkout')")
            page.wait_for_url("**/experiments/checkout")
            if HAS_REPORT:
                page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3")
            drawn = page.eval_on_selector_all(
                ".chart", "els => els.map(e => [e.id, e.querySelectorAll('svg.main-svg').length])"
            )
            verdict = page.inner_text("#verdict")
            assert "start" in page.inner_text("#history")
            page.screenshot(path=str(shots / "experiment.png"), full_page=True)
            if HAS_REPORT:
                assert "ship" in verdict
                assert {"plot-effects", "plot-cumulative"} <= {i for i, n in drawn if n > 0}
                assert all(n > 0 for _, n in drawn), drawn
            else:
                assert "No analysis yet" in verdict

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
