"""Shadow mode over real HTTP: examples/shadow.yaml created and started, production served
to every unit, both models' outputs logged by the SDK, labels sent later as events, and the
analysis read back; ``POST /v1/shadow`` refuses bad rows naming the row and field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from server.live import Live
from shipit.sdk import ShipitClient
from shipit.sim.shadow import simulate_scores

EXAMPLE = Path(__file__).parents[2] / "examples" / "shadow.yaml"
KEY = "fraud-model-shadow"


def _start(live: Live) -> None:
    with live.client(live.admin) as admin:
        created = admin.post("/v1/experiments", json={"yaml": EXAMPLE.read_text()})
        assert created.status_code == 201, created.text
        assert admin.post(f"/v1/experiments/{KEY}/start").json()["status"] == "running"


def test_shadow_example_served_logged_and_analysed(live: Live) -> None:
    _start(live)
    sim = simulate_scores(11, units=300, per_unit=3.0, agree=0.8, shift_low=0.06)
    client = ShipitClient(live.url, live.sdk, start=False, batch_size=500)
    assert client.refresh()
    rows = sim.rows
    served = []
    for i in range(len(rows["request_id"])):
        served.append(
            client.shadow(
                KEY,
                rows["unit_id"][i],
                rows["request_id"][i],
                production=float(rows["production_score"][i]),
                candidate=float(rows["candidate_score"][i]),
                production_ms=float(rows["production_ms"][i]),
                candidate_ms=float(rows["candidate_ms"][i]),
            )
        )
    # Production's output is what the call returns, for every request.
    assert served == rows["production_score"].tolist()
    labels = sim.labels
    for unit, request, y in zip(labels["unit_id"], labels["request_id"], labels["y"], strict=True):
        client.track("chargeback_label", unit, float(y), properties={"request_id": request})
    assert client.flush()
    n = len(rows["request_id"])
    assert client.stats.shadow_sent == n
    assert client.stats.rejected == 0
    # A retried batch is stored once.
    with live.client(live.sdk) as sdk:
        again = sdk.post(
            "/v1/shadow",
            json={
                "shadow": [
                    {
                        "experiment": KEY,
                        "request_id": rows["request_id"][0],
                        "unit_id": rows["unit_id"][0],
                        "timestamp": "2026-01-05T00:00:00Z",
                        "production": 0.1,
                        "candidate": 0.2,
                    }
                ]
            },
        )
        assert again.json() == {"received": 1, "stored": 0, "duplicates": 1}
        # Every unit is served production: assignment never gives the candidate.
        units = [{"unit_id": f"user-{i}"} for i in range(500)]
        assigned = sdk.post("/v1/assign", json={"experiment": KEY, "units": units}).json()
    assert {a["variant"] for a in assigned["assignments"]} == {"production"}

    with live.client(live.admin) as admin:
        run = admin.post(f"/v1/experiments/{KEY}/analyses", json={})
        assert run.status_code == 201, run.text
        analysis = run.json()
    shadow = analysis["shadow"]
    assert shadow["requests"] == n
    assert shadow["labelled"] == n
    agreement = shadow["agreement"]
    assert agreement["ci_low"] < sim.truth["agreement"] < agreement["ci_high"]
    assert agreement["estimate"] == pytest.approx(
        np.mean(np.abs(rows["candidate_score"] - rows["production_score"]) <= 0.05), abs=1e-12
    )
    metrics = {m["metric"]: m for m in shadow["offline"]}
    assert set(metrics) == {"accuracy", "mse", "log_loss"}
    mse = metrics["mse"]["difference"]
    assert mse["ci_low"] < sim.truth["paired_mse"] < mse["ci_high"]
    latency = {x["model"]: x for x in shadow["latency"]}
    p95 = latency["candidate"]["quantiles"][1]
    assert p95["ci_low"] < sim.truth["candidate_p0.95"] < p95["ci_high"]
    assert analysis["verdict"]["decision"] == "iterate"
    with live.client(live.read) as anyone:
        page = anyone.get(f"/experiments/{KEY}")
    assert page.status_code == 200
    assert "Shadow run" in page.text


def test_bad_shadow_rows_are_refused_naming_row_and_field(live: Live) -> None:
    _start(live)
    good = {
        "experiment": KEY,
        "request_id": "r1",
        "unit_id": "u1",
        "timestamp": datetime.now(UTC).isoformat(),
        "production": 0.2,
        "candidate": 0.3,
    }
    cases = {
        "shadow.1.candidate": {**good, "request_id": "r2", "candidate": "high"},
        "shadow.1.production_ms": {**good, "request_id": "r2", "production_ms": -1},
        "shadow.1.experiment": {**good, "request_id": "r2", "experiment": "nope"},
        "shadow.1.timestamp": {**good, "request_id": "r2", "timestamp": "yesterday"},
        "shadow.1.request_id": {**good, "request_id": ""},
        "shadow.1": {**good, "request_id": "r2", "production": None, "candidate": None},
    }
    with live.client(live.sdk) as sdk:
        for where, row in cases.items():
            r = sdk.post("/v1/shadow", json={"shadow": [good, row]})
            assert r.status_code == 422, (where, r.text)
            assert where in r.json()["detail"], (where, r.text)
        assert sdk.post("/v1/shadow", json={"shadow": []}).status_code == 422
        # Nothing of a refused batch was stored: the good row is still new.
        ok = sdk.post("/v1/shadow", json={"shadow": [good]})
        assert ok.json() == {"received": 1, "stored": 1, "duplicates": 0}
    # A row sent without a phase is in the current phase, so the analysis counts it.
    with live.client(live.admin) as admin:
        run = admin.post(f"/v1/experiments/{KEY}/analyses", json={})
        assert run.status_code == 201, run.text
        one = run.json()["shadow"]
    assert one["requests"] == 1
    assert one["agreement"]["estimate"] == 0.0  # |0.3 - 0.2| > the tolerance 0.05
    assert one["agreement"]["ci_low"] is None  # one unit: no interval, not a made-up one
    with live.client(live.admin) as admin:
        plain = "key: plain\nvariants: [{key: a, weight: 0.5}, {key: b, weight: 0.5}]\n"
        assert admin.post("/v1/experiments", json={"yaml": plain}).status_code == 201
    with live.client(live.sdk) as sdk:
        r = sdk.post("/v1/shadow", json={"shadow": [{**good, "experiment": "plain"}]})
        assert r.status_code == 422
        assert "not a shadow one" in r.json()["detail"]
