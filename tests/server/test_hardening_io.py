"""Assignment-time exposures follow the exposure rules, bad numbers are 4xx naming the
field, a metric naming a missing column is a 422 (not a 5xx to retry forever), and the
connection stays open after a 500."""

from __future__ import annotations

import http.client
import importlib.util
from typing import Any

import duckdb
import pytest

from server.live import SPEC_YAML, Live


def _running(live: Live, yaml: str = SPEC_YAML) -> None:
    with live.client(live.admin) as c:
        assert c.post("/v1/experiments", json={"yaml": yaml}).status_code == 201
        assert c.post("/v1/experiments/checkout/start").status_code == 200


def _exposures(live: Live) -> list[tuple[Any, ...]]:
    live.release_store()
    con = duckdb.connect(live.store, read_only=True)
    try:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        if "exposures" not in tables:
            return []
        return con.execute(
            "SELECT experiment, phase, unit_id, variant FROM exposures ORDER BY unit_id"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("name", ["variant", "experiment", "timestamp", "phase", "unit_id"])
def test_assign_attributes_cannot_overwrite_the_exposure(live: Live, name: str) -> None:
    _running(live)
    body = {
        "experiment": "checkout",
        "unit_id": "u1",
        "attributes": {name: "forged"},
        "log_exposures": True,
    }
    with live.client(live.sdk) as c:
        r = c.post("/v1/assign", json=body)
        assert r.status_code == 422, r.text
        assert name in r.json()["detail"]
        batch = {
            "experiment": "checkout",
            "units": [{"unit_id": "u2", "attributes": {"country": "fr"}},
                      {"unit_id": "u3", "attributes": {name: "forged"}}],
            "log_exposures": True,
        }  # fmt: skip
        r = c.post("/v1/assign", json=batch)
        assert r.status_code == 422
        assert "units.1.attributes" in r.json()["detail"]
    assert _exposures(live) == []


@pytest.mark.parametrize("name", ["a b", "1st", "x" * 65, "__dunder", "drop;table"])
def test_assign_attribute_names_follow_the_exposure_rules(live: Live, name: str) -> None:
    _running(live)
    body = {"experiment": "checkout", "unit_id": "u1", "attributes": {name: "x"}}
    with live.client(live.sdk) as c:
        assert c.post("/v1/assign", json=body).status_code == 200  # assignment alone: fine
        r = c.post("/v1/assign", json={**body, "log_exposures": True})
        assert r.status_code == 422, r.text
    assert _exposures(live) == []


def test_assign_with_good_attributes_stores_the_true_exposure(live: Live) -> None:
    _running(live)
    body = {
        "experiment": "checkout",
        "unit_id": "u1",
        "attributes": {"country": "NA"},
        "log_exposures": True,
    }
    with live.client(live.sdk) as c:
        r = c.post("/v1/assign", json=body)
    assert r.status_code == 200, r.text
    variant = r.json()["assignments"][0]["variant"]
    assert _exposures(live) == [("checkout", 1, "u1", variant)]


@pytest.mark.parametrize("phase", [2**70, 2**31, -1])
def test_an_exposure_phase_out_of_range_is_a_422(live: Live, phase: int) -> None:
    _running(live)
    row = {
        "experiment": "checkout",
        "unit_id": "u1",
        "variant": "green",
        "timestamp": "2026-11-01T00:00:00Z",
        "phase": phase,
    }
    with live.client(live.sdk) as c:
        r = c.post("/v1/exposures", json={"exposures": [row]})
    assert r.status_code == 422, r.text
    assert "exposures.0.phase" in r.json()["detail"]


@pytest.mark.skipif(
    importlib.util.find_spec("shipit.analysis") is None, reason="no analysis pipeline"
)
def test_a_metric_naming_a_missing_column_is_a_422(live: Live) -> None:
    yaml = SPEC_YAML.replace(
        "{name: revenue, event: purchase, aggregation: sum, value: value}",
        "{name: revenue, event: purchase, aggregation: sum, value: amount_eur}",
    )
    _running(live, yaml)
    with live.client(live.sdk) as c:
        exposures = [
            {"experiment": "checkout", "unit_id": f"u{i}", "variant": ["control", "green"][i % 2],
             "timestamp": "2026-11-01T00:00:00Z", "phase": 1}
            for i in range(20)
        ]  # fmt: skip
        assert c.post("/v1/exposures", json={"exposures": exposures}).status_code == 200
        events = [
            {"event_id": f"e{i}", "unit_id": f"u{i}", "event": "purchase",
             "timestamp": "2026-11-01T01:00:00Z", "value": 1.0}
            for i in range(20)
        ]  # fmt: skip
        assert c.post("/v1/events", json={"events": events}).status_code == 200
    with live.client(live.admin) as c:
        r = c.post("/v1/experiments/checkout/analyses")
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "revenue" in detail
    assert "amount_eur" in detail


def test_the_connection_stays_open_after_a_500(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(live.app.state.services.registry, "list_experiments", boom)
    host, port = live.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {"Authorization": f"Bearer {live.admin}"}
    try:
        conn.request("GET", "/v1/experiments", headers=headers)
        first = conn.getresponse()
        body = first.read()
        assert first.status == 500
        assert b"database exploded" not in body
        assert (first.getheader("connection") or "").lower() != "close"
        sock = conn.sock
        conn.request("GET", "/healthz")
        second = conn.getresponse()
        second.read()
        assert second.status == 200
        assert conn.sock is sock  # the same connection answered
    finally:
        conn.close()
