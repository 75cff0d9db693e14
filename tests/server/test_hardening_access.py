"""Least privilege: the dashboard and /metrics need a read or admin key (or a session from
/login with one) unless opened on purpose; an sdk key reads running features only and writes
data of registered experiments only; pages carry security headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.conftest import serve
from server.live import SPEC_YAML, Live

PAGES = ["/", "/experiments/checkout", "/planner"]


def _setup(live: Live) -> None:
    with live.client(live.admin) as c:
        assert c.post("/v1/experiments", json={"yaml": SPEC_YAML}).status_code == 201
        draft = SPEC_YAML.replace("key: checkout", "key: secret-draft")
        assert c.post("/v1/experiments", json={"yaml": draft}).status_code == 201
        assert c.post("/v1/experiments/checkout/start").status_code == 200


def test_pages_and_metrics_need_a_read_key(live: Live) -> None:
    _setup(live)
    with httpx.Client(base_url=live.url, follow_redirects=False) as anyone:
        for path in PAGES:
            r = anyone.get(path)
            assert r.status_code == 303, (path, r.status_code)
            assert r.headers["location"].startswith("/login?next=")
            assert "checkout" not in r.text
        assert anyone.get("/metrics").status_code == 401
    with live.client(live.sdk) as sdk:
        for path in [*PAGES, "/metrics"]:
            assert sdk.get(path).status_code == 403, path
    for token in (live.read, live.admin):
        with live.client(token) as viewer:
            for path in PAGES:
                assert viewer.get(path).status_code == 200, path
            assert "shipit_http_requests" in viewer.get("/metrics").text
    # What stays open: health checks and the static scripts.
    for path in ("/healthz", "/static/plotly.min.js", "/static/dashboard.js", "/login"):
        assert httpx.get(live.url + path).status_code == 200, path


def test_login_with_a_key_gives_a_signed_session(live: Live) -> None:
    _setup(live)
    with httpx.Client(base_url=live.url) as browser:
        r = browser.post(
            "/login",
            data={"key": live.read, "next": "/experiments/checkout"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert r.headers["location"] == "/experiments/checkout"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert browser.get("/experiments/checkout").status_code == 200
        assert browser.get("/metrics").status_code == 200
        # A session is no API key.
        assert browser.get("/v1/experiments").status_code == 401
        # A forged or altered cookie is worth nothing.
        value = browser.cookies["shipit_session"]
        browser.cookies.set("shipit_session", value[:-1] + ("0" if value[-1] != "0" else "1"))
        assert browser.get("/", follow_redirects=False).status_code == 303
        browser.cookies.set("shipit_session", value)
        assert browser.get("/").status_code == 200
        assert browser.post("/logout", follow_redirects=False).status_code == 303


def test_login_refuses_sdk_and_unknown_keys_and_foreign_redirects(live: Live) -> None:
    with httpx.Client(base_url=live.url, follow_redirects=False) as browser:
        assert browser.post("/login", data={"key": live.sdk}).status_code == 403
        assert browser.post("/login", data={"key": "shipit_nope_nope"}).status_code == 401
        assert "shipit_session" not in browser.cookies
        r = browser.post("/login", data={"key": live.read, "next": "//evil.example/x"})
        assert r.headers["location"] == "/"


def test_a_revoked_key_ends_its_sessions(live: Live) -> None:
    from shipit.registry.keys import KeyRepository

    keys = KeyRepository.from_url(live.database_url)
    viewer = keys.create("viewer", "read")
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=30.0) as browser:
        assert browser.post("/login", data={"key": viewer.token}).status_code == 303
        assert browser.get("/").status_code == 200
        keys.revoke(viewer.key.prefix)
        live.app.state.services.key_cache.clear()
        assert browser.get("/").status_code == 303
    keys.engine.dispose()


@pytest.fixture
def live_open(tmp_path: Path) -> Iterator[Live]:
    """A server whose dashboard is open (a trusted network)."""
    yield from serve(tmp_path, open_dashboard=True)


def test_the_open_setting_serves_the_dashboard_without_a_key(live_open: Live) -> None:
    _setup(live_open)
    for path in [*PAGES, "/metrics"]:
        assert httpx.get(live_open.url + path).status_code == 200, path
    # The API still needs its keys.
    assert httpx.get(live_open.url + "/v1/experiments").status_code == 401


def test_pages_carry_security_headers(live: Live) -> None:
    _setup(live)
    with live.client(live.read) as c:
        for path in [*PAGES, "/login"]:
            r = c.get(path)
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp
            assert "frame-ancestors 'none'" in csp
            assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
            assert r.headers["x-frame-options"] == "DENY"
            assert r.headers["referrer-policy"] == "no-referrer"
            assert r.headers["x-content-type-options"] == "nosniff"
            assert "<script>" not in r.text  # no inline script for the CSP to allow


def test_sdk_keys_read_running_features_only(live_db: Live) -> None:
    _setup(live_db)
    with live_db.client(live_db.sdk) as sdk:
        for path in (
            "/v1/experiments",
            "/v1/experiments/secret-draft",
            "/v1/experiments/checkout",
            "/v1/experiments/checkout/history",
            "/v1/experiments/checkout/analyses/latest",
        ):
            assert sdk.get(path).status_code == 403, path
        features = sdk.get("/v1/features").json()
        assert [e["key"] for e in features["experiments"]] == ["checkout"]
    with live_db.client(live_db.read) as reader:
        assert len(reader.get("/v1/experiments").json()) == 2
        assert reader.get("/v1/experiments/checkout/history").status_code == 200
        assert reader.post("/v1/experiments/checkout/stop").status_code == 403
        assert reader.post("/v1/events", json={"events": []}).status_code in (403, 422)


def test_sdk_keys_write_exposures_of_registered_experiments_only(live_db: Live) -> None:
    _setup(live_db)
    row = {"unit_id": "u1", "variant": "green", "timestamp": "2026-11-01T00:00:00Z", "phase": 1}
    with live_db.client(live_db.sdk) as sdk:
        r = sdk.post("/v1/exposures", json={"exposures": [{**row, "experiment": "ghost"}]})
        assert r.status_code == 422
        assert "exposures.0.experiment" in r.json()["detail"]
        mixed = [{**row, "experiment": "checkout"}, {**row, "experiment": "ghost"}]
        r = sdk.post("/v1/exposures", json={"exposures": mixed})
        assert r.status_code == 422
        assert "exposures.1.experiment" in r.json()["detail"]
        r = sdk.post("/v1/exposures", json={"exposures": [{**row, "experiment": "checkout"}]})
        assert r.json()["stored"] == 1
        assert (
            sdk.post("/v1/assign", json={"experiment": "ghost", "unit_id": "u"}).status_code == 404
        )
