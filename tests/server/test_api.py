"""The HTTP API over real HTTP: experiments, assignment, ingestion, features, errors, limits."""

from __future__ import annotations

from typing import Any

import duckdb
import httpx

from server.live import SPEC_YAML, Live


def _create(c: httpx.Client, yaml: str = SPEC_YAML) -> dict[str, Any]:
    r = c.post("/v1/experiments", json={"yaml": yaml})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_experiment_lifecycle_and_history(live: Live) -> None:
    with live.client(live.admin) as c:
        created = _create(c)
        assert created["status"] == "draft"
        assert created["spec"]["primary_metric"] == "converted"
        edited = SPEC_YAML.replace("owner: growth", "owner: checkout-team")
        r = c.put("/v1/experiments/checkout", json={"yaml": edited})
        assert r.status_code == 200, r.text
        assert r.json()["owner"] == "checkout-team"
        assert c.post("/v1/experiments/checkout/start").json()["status"] == "running"
        # A running experiment's weights change only with a new phase: refused, with the reason.
        reweighted = edited.replace(
            "weight: 0.5}\n  - {key: green, weight: 0.5}",
            "weight: 0.4}\n  - {key: green, weight: 0.6}",
        )
        r = c.put("/v1/experiments/checkout", json={"yaml": reweighted})
        assert r.status_code == 409
        assert "new phase" in r.json()["detail"]
        r = c.put(
            "/v1/experiments/checkout",
            json={"yaml": reweighted, "new_phase": True, "reason": "ramp"},
        )
        assert r.status_code == 200
        assert r.json()["phase"] == 2
        assert c.post("/v1/experiments/checkout/stop").json()["status"] == "stopped"
        r = c.post("/v1/experiments/checkout/decide", json={"decision": "ship"})
        assert r.json()["status"] == "decided"
        history = c.get("/v1/experiments/checkout/history").json()
        assert len(history) >= 4
        assert all("test admin" in h["actor"] for h in history)


def test_list_filters_by_status_and_owner(live: Live) -> None:
    with live.client(live.admin) as c:
        _create(c)
        _create(c, SPEC_YAML.replace("key: checkout", "key: search").replace("growth", "search"))
        c.post("/v1/experiments/search/start")
        keys = lambda **q: sorted(e["key"] for e in c.get("/v1/experiments", params=q).json())  # noqa: E731
        assert keys() == ["checkout", "search"]
        assert keys(status="running") == ["search"]
        assert keys(owner="growth") == ["checkout"]


def test_spec_errors_are_4xx_with_the_message(live: Live) -> None:
    with live.client(live.admin) as c:
        bad = SPEC_YAML.replace(
            "weight: 0.5}\n  - {key: green, weight: 0.5}",
            "weight: 0.5}\n  - {key: green, weight: 0.6}",
        )
        r = c.post("/v1/experiments", json={"yaml": bad})
        assert r.status_code == 422
        assert "weights must sum to 1" in r.json()["detail"]
        assert "Traceback" not in r.text
        r = c.post("/v1/experiments", json={"yaml": "key: [unclosed"})
        assert r.status_code == 422
        assert "invalid YAML" in r.json()["detail"]
        r = c.get("/v1/experiments/nope")
        assert r.status_code == 404
        assert "nope" in r.json()["detail"]
        _create(c)
        r = c.post("/v1/experiments", json={"yaml": SPEC_YAML})
        assert r.status_code == 409
        r = c.post("/v1/experiments", json={"spec": {"key": "x"}, "yaml": "key: x"})
        assert r.status_code == 422
        assert "exactly one" in r.json()["detail"]


def test_assign_one_and_batch_match_the_library(live: Live) -> None:
    from shipit.assign import Assigner
    from shipit.spec import loads_experiments

    assigner = Assigner(loads_experiments(SPEC_YAML)[0])
    with live.client(live.admin) as c:
        _create(c)
        r = c.post("/v1/assign", json={"experiment": "checkout", "unit_id": "u1"})
        assert r.status_code == 409  # draft: not assigning yet
        c.post("/v1/experiments/checkout/start")
    with live.client(live.sdk) as c:
        r = c.post("/v1/assign", json={"experiment": "checkout", "unit_id": "u1"})
        assert r.status_code == 200, r.text
        assert r.json()["assignments"][0]["variant"] == assigner.assign("u1").variant
        units = [{"unit_id": f"u{i}"} for i in range(500)]
        got = c.post("/v1/assign", json={"experiment": "checkout", "units": units}).json()
        expected = [assigner.assign(f"u{i}").variant for i in range(500)]
        assert [a["variant"] for a in got["assignments"]] == expected
        assert {a["reason"] for a in got["assignments"]} == {"assigned"}


def test_assign_can_log_the_exposures_of_enrolled_units(live: Live) -> None:
    from shipit.assign import Assigner
    from shipit.spec import loads_experiments

    assigner = Assigner(loads_experiments(SPEC_YAML)[0])
    with live.client(live.admin) as c:
        _create(c)
        c.post("/v1/experiments/checkout/start")
    units = [{"unit_id": f"x{i}", "attributes": {"country": "fr"}} for i in range(40)]
    with live.client(live.sdk) as c:
        plain = c.post("/v1/assign", json={"experiment": "checkout", "units": units[:5]}).json()
        assert "exposures_stored" not in plain
        body = {"experiment": "checkout", "units": units, "log_exposures": True}
        got = c.post("/v1/assign", json=body).json()
        one = {"experiment": "checkout", "unit_id": "solo", "log_exposures": True}
        single = c.post("/v1/assign", json=one).json()
    enrolled = [a for a in got["assignments"] if a["variant"] is not None]
    assert got["exposures_stored"] == len(enrolled) > 0
    assert single["exposures_stored"] == (assigner.assign("solo").variant is not None)
    live.release_store()
    con = duckdb.connect(live.store, read_only=True)
    stored = con.execute(
        "SELECT unit_id, variant, phase, country FROM exposures WHERE unit_id LIKE 'x%' "
        "ORDER BY unit_id"
    ).fetchall()
    con.close()
    want = sorted((a["unit_id"], a["variant"], got["phase"], "fr") for a in enrolled)
    assert stored == want


def test_events_are_idempotent_and_acknowledged_once_stored(live: Live) -> None:
    rows = [
        {
            "event_id": f"e{i}",
            "unit_id": f"u{i % 7}",
            "event": "purchase",
            "timestamp": "2026-11-01T12:00:00+01:00",
            "value": float(i),
            "properties": {"country": "fr" if i % 2 else "de"},
        }
        for i in range(50)
    ]
    with live.client(live.sdk) as c:
        first = c.post("/v1/events", json={"events": rows}).json()
        again = c.post("/v1/events", json={"events": rows[:30]}).json()
    assert first == {"received": 50, "stored": 50, "duplicates": 0}
    assert again == {"received": 30, "stored": 0, "duplicates": 30}
    live.release_store()  # the reply came after the commit: read it back
    con = duckdb.connect(live.store, read_only=True)
    n, distinct, hour = con.execute(
        "SELECT count(*), count(DISTINCT event_id), min(hour(timestamp)) FROM events"
    ).fetchone()
    con.close()
    assert (n, distinct, hour) == (50, 50, 11)  # stored in UTC


def test_bad_rows_are_named_and_nothing_is_stored(live: Live) -> None:
    good = {"event_id": "a", "unit_id": "u", "event": "x", "timestamp": "2026-11-01T00:00:00Z"}
    bad = [
        good,
        {**good, "event_id": "b", "timestamp": "yesterday"},
        {**good, "event_id": "c", "value": "NaN"},
    ]
    with live.client(live.sdk) as c:
        r = c.post("/v1/events", json={"events": bad})
        assert r.status_code == 422
        locs = {p["loc"] for p in r.json()["problems"]}
        assert "events.1.timestamp" in locs
        assert "events.2.value" in locs
        assert c.post("/v1/events", json={"events": [good]}).json()["stored"] == 1


def test_exposures_store_once(live: Live) -> None:
    rows = [
        {
            "experiment": "checkout",
            "unit_id": f"u{i}",
            "variant": "green",
            "timestamp": "2026-11-01T00:00:00Z",
            "phase": 1,
            "attributes": {"country": "fr"},
        }
        for i in range(20)
    ]
    with live.client(live.admin) as c:
        _create(c)
    with live.client(live.sdk) as c:
        assert c.post("/v1/exposures", json={"exposures": rows}).json()["stored"] == 20
        assert c.post("/v1/exposures", json={"exposures": rows}).json()["stored"] == 0


def test_features_payload_and_etag(live: Live) -> None:
    with live.client(live.admin) as c:
        _create(c)
        c.post("/v1/experiments/checkout/start")
    with live.client(live.sdk) as c:
        r = c.get("/v1/features")
        assert [e["key"] for e in r.json()["experiments"]] == ["checkout"]
        etag = r.headers["etag"]
        assert c.get("/v1/features", headers={"If-None-Match": etag}).status_code == 304


def test_body_size_limit(live: Live) -> None:
    big = {
        "events": [{"event_id": "x" * 200, "unit_id": "u", "event": "e", "timestamp": "2026-01-01"}]
        * 30_000
    }
    with live.client(live.sdk) as c:
        r = c.post("/v1/events", json=big)
    assert r.status_code == 413
    assert "limit" in r.json()["detail"]


def test_health_ready_and_metrics(live: Live) -> None:
    with live.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        assert c.get("/readyz").json()["status"] == "ready"
    with live.client(live.admin) as c:
        _create(c)
        c.post("/v1/experiments/checkout/start")
    with live.client(live.sdk) as c:
        c.post(
            "/v1/assign",
            json={"experiment": "checkout", "units": [{"unit_id": str(i)} for i in range(10)]},
        )
        c.post(
            "/v1/events",
            json={
                "events": [
                    {"event_id": "1", "unit_id": "u", "event": "e", "timestamp": "2026-01-01"}
                ]
            },
        )
        assert c.get("/metrics").status_code == 403  # an sdk key does not read metrics
    with live.client(live.read) as c:
        text = c.get("/metrics").text
    assert 'shipit_assignments_total{experiment="checkout"} 10.0' in text
    assert 'shipit_rows_stored_total{table="events"} 1.0' in text
    assert 'route="/v1/experiments/{key}/start"' in text
    assert "shipit_http_request_duration_seconds_bucket" in text
