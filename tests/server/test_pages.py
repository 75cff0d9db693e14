"""Dashboard pages and error paths without a browser: planner input errors, 404 pages,
no stack trace on an unexpected failure, plotly.js served by the app."""

from __future__ import annotations

import httpx
import pytest

from server.live import SPEC_YAML, Live
from shipit.server.cache import TtlCache


def _read(live: Live) -> dict[str, str]:
    """Headers of a dashboard viewer (a read key)."""
    return {"Authorization": f"Bearer {live.read}"}


def test_planner_reports_bad_input_by_field(live: Live) -> None:
    r = httpx.get(f"{live.url}/planner", headers=_read(live), params={"baseline": "abc"})
    assert r.status_code == 200
    assert "baseline: &#39;abc&#39; is not a valid value" in r.text
    r = httpx.get(f"{live.url}/planner", headers=_read(live), params={"variants": "1"})
    assert "variants: at least 2" in r.text


def test_planner_mean_metric(live: Live) -> None:
    from shipit.stats.power import sample_size_mean

    params = {"kind": "mean", "baseline": "10", "sd": "4", "mde": "0.5", "daily_units": "100"}
    r = httpx.get(f"{live.url}/planner", headers=_read(live), params=params)
    expected = int(-(-float(sample_size_mean(4.0, 0.5)) // 1))
    assert f'id="per-variant">{expected:,}<' in r.text


def test_unknown_experiment_page_is_404(live: Live) -> None:
    r = httpx.get(f"{live.url}/experiments/nope", headers=_read(live))
    assert r.status_code == 404
    assert "no experiment &#39;nope&#39;" in r.text


def test_unexpected_errors_never_show_a_stack_trace(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(live.app.state.services.registry, "list_experiments", boom)
    r = httpx.get(f"{live.url}/v1/experiments", headers={"Authorization": f"Bearer {live.admin}"})
    assert r.status_code == 500
    assert r.json() == {
        "error": "InternalError",
        "detail": "internal server error (see the server log)",
    }


def test_plotly_js_is_served_by_the_app(live: Live) -> None:
    r = httpx.get(f"{live.url}/static/plotly.min.js")
    assert r.status_code == 200
    assert "plotly" in r.text[:2000].lower()


def test_ttl_cache_reuses_then_expires() -> None:
    calls: list[int] = []
    cache: TtlCache[str, int] = TtlCache(60.0)
    assert cache.get("a", lambda: calls.append(1) or 1) == 1
    assert cache.get("a", lambda: calls.append(2) or 2) == 1
    assert calls == [1]
    off: TtlCache[str, int] = TtlCache(0.0)
    assert [off.get("a", lambda: len(calls)) for _ in range(2)] == [1, 1]
    cache.clear()
    assert cache.get("a", lambda: 3) == 3


def test_pages_escape_what_specs_contain(live: Live) -> None:
    evil = SPEC_YAML.replace("name: Green checkout button", "name: <script>alert(1)</script>")
    with live.client(live.admin) as c:
        assert c.post("/v1/experiments", json={"yaml": evil}).status_code == 201
    for path in ("/", "/experiments/checkout"):
        page = httpx.get(live.url + path, headers=_read(live)).text
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_experiment_page_shows_active_alerts_and_deliveries(live: Live) -> None:
    from datetime import UTC, datetime

    from shipit.registry import open_registry
    from shipit.registry.monitoring import MonitorState

    spec = SPEC_YAML + "monitoring: {every: 1h, auto_rollback: true}\n"
    admin = {"Authorization": f"Bearer {live.admin}"}
    assert httpx.post(f"{live.url}/v1/experiments", json={"yaml": spec}, headers=admin).is_success
    page = httpx.get(f"{live.url}/experiments/checkout", headers=_read(live)).text
    assert "No alert is active." in page
    assert "Analysed every 1h; rolled back automatically" in page
    repo = open_registry(live.database_url)
    state = MonitorState(repo.engine)
    now = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    state.set_alert_states(
        "checkout", {"guardrail": "revenue/green", "srm": "", "verdict": "x"}, now
    )
    hook = "https://hooks.example/T0/SECRET"
    state.record_delivery("checkout", hook, ["guardrail"], ok=True, attempts=1, status_code=200)
    state.record_delivery(
        "checkout", hook, ["srm"], ok=False, attempts=4, status_code=503, error="HTTP 503 busy"
    )
    repo.close()
    page = httpx.get(f"{live.url}/experiments/checkout", headers=_read(live)).text
    assert page.count('<tr class="alert">') == 1  # the red guardrail; quiet SRM and verdict not
    assert "<td>revenue/green</td><td>2026-12-03 09:30</td>" in page
    assert "failed after 4 attempts (HTTP 503): HTTP 503 busy" in page
    assert page.index("failed after 4") < page.index("delivered")  # newest first
    assert "SECRET" not in page  # a webhook URL is a credential: never shown
