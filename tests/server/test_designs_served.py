"""The design examples of examples/designs/ end to end over real HTTP: each spec created and
started through the API, units assigned by the server under the design, exposures and
events posted, the analysis run by the server, and its design block equal to the library
functions on the server's store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from server.live import Live
from shipit.analysis.designs import analyze_cluster
from shipit.analysis.switchback import analyze_switchback
from shipit.assign.interference import ego_clusters
from shipit.assign.spec_designs import assign_design, switchback_schedule
from shipit.spec.io import loads_experiments
from shipit.store.duckdb import DuckDBEngine

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "designs"


def _create(live: Live, text: str, key: str) -> None:
    with live.client(live.admin) as admin:
        made = admin.post("/v1/experiments", json={"yaml": text})
        assert made.status_code == 201, made.text
        assert admin.post(f"/v1/experiments/{key}/start").json()["status"] == "running"


def _post(client: httpx.Client, path: str, name: str, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), 2000):
        got = client.post(path, json={name: rows[i : i + 2000]})
        assert got.status_code == 200, got.text


def _analyse(live: Live, key: str) -> dict[str, Any]:
    with live.client(live.admin) as admin:
        run = admin.post(f"/v1/experiments/{key}/analyses", json={})
    assert run.status_code == 201, run.text
    data: dict[str, Any] = run.json()
    return data


def _close(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= 1e-9 * max(1.0, abs(b))


def test_cluster_example_served_and_analysed(live: Live) -> None:
    text = (EXAMPLES / "cluster_cities.yaml").read_text()
    (spec,) = loads_experiments(text)
    _create(live, text, spec.key)
    rng = np.random.default_rng(11)
    units = [f"rider-{i}" for i in range(1500)]
    city = [f"city{c:02d}" for c in rng.integers(0, 40, len(units))]
    with live.client(live.sdk) as sdk:
        body = {"experiment": spec.key, "log_exposures": True,
                "units": [{"unit_id": u, "attributes": {"city": c}}
                          for u, c in zip(units, city, strict=True)]}  # fmt: skip
        served = sdk.post("/v1/assign", json=body).json()
        variants = [a["variant"] for a in served["assignments"]]
        # The server assigns by the city, as the library's design does.
        assert variants == list(assign_design(spec, units, {"city": city}))
        one = sdk.post("/v1/assign", json={"experiment": spec.key, "unit_id": "x",
                                           "attributes": {"city": city[0]}}).json()  # fmt: skip
        assert one["assignments"][0]["variant"] == variants[0]
        level = {c: rng.normal(0, 3.0) for c in sorted(set(city))}
        later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        events = [
            {"event_id": f"e{i}", "unit_id": u, "event": "ride", "timestamp": later,
             "value": max(0.0, 20 + level[c] + rng.normal(0, 4))}
            for i, (u, c) in enumerate(zip(units, city, strict=True)) if rng.random() < 0.7
        ]  # fmt: skip
        _post(sdk, "/v1/events", "events", events)
    analysis = _analyse(live, spec.key)
    design = analysis["design"]
    assert design["kind"] == "cluster"
    assert design["unit_of_analysis"] == "cluster"
    assert sum(design["clusters"].values()) == len(set(city))
    live.release_store()
    engine = DuckDBEngine(live.store)
    ref = analyze_cluster(engine, spec).effect("revenue", "capped")
    effect = next(e for e in analysis["effects"] if e["metric"] == "revenue")
    for field in ("abs_effect", "abs_se", "rel_ci_low", "rel_ci_high", "p_value"):
        assert _close(effect["raw"][field], float(getattr(ref.robust, field)[0])), field
    comparison = next(c for c in design["comparisons"] if c["metric"] == "revenue")
    assert comparison["design_effect"] > 2  # strong city effects: the naive se is far off


def test_switchback_example_served_and_analysed(live: Live) -> None:
    text = (EXAMPLES / "switchback_dispatch.yaml").read_text()
    # The schedule starts this hour; the orders of its next twelve hours are simulated.
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    text = text.replace('start: "2026-01-05T00:00:00"', f'start: "{start.isoformat()}"')
    (spec,) = loads_experiments(text)
    _create(live, text, spec.key)
    regions = ["north", "south", "east", "west"]
    schedule = switchback_schedule(spec, regions, start, start + timedelta(hours=12))
    with live.client(live.sdk) as sdk:
        # Served now: the variant of the current hour of the unit's region.
        body = {
            "experiment": spec.key,
            "units": [{"unit_id": f"probe-{r}", "attributes": {"region": r}} for r in regions],
        }
        served = [a["variant"] for a in sdk.post("/v1/assign", json=body).json()["assignments"]]
        current, _ = schedule.lookup(regions, [datetime.now(UTC).replace(tzinfo=None)] * 4)
        assert served == list(current)
        # Twelve hours of orders, at a rate the hour's variant sets (batched: +30%).
        rng = np.random.default_rng(5)
        exposures, events = [], []
        for r, region in enumerate(regions):
            for minute in range(12 * 60):
                k = minute // 60
                arm = schedule.variants[schedule.index[r, k]]
                rate = 0.4 * (1.3 if arm == "batched" else 1.0)
                for j in range(rng.poisson(rate)):
                    at = start + timedelta(minutes=minute, seconds=5 + j)
                    unit = f"order-{region}-{minute}-{j}"
                    exposures.append({"experiment": spec.key, "phase": 1, "unit_id": unit,
                                      "variant": arm,
                                      "timestamp": at.isoformat() + "Z",
                                      "attributes": {"region": region}})  # fmt: skip
                    events.append({"event_id": unit, "unit_id": unit, "event": "order",
                                   "timestamp": (at + timedelta(seconds=1)).isoformat() + "Z",
                                   "properties": {"region": region}})  # fmt: skip
        _post(sdk, "/v1/exposures", "exposures", exposures)
        _post(sdk, "/v1/events", "events", events)
    analysis = _analyse(live, spec.key)
    design = analysis["design"]
    assert design["kind"] == "switchback"
    assert design["unit_of_analysis"] == "block"
    with live.client(live.read) as anyone:
        started = anyone.get(f"/v1/experiments/{spec.key}").json()["started_at"]
    since = datetime.fromisoformat(started.replace("Z", "+00:00")).replace(tzinfo=None)
    # The hours from the phase's start (the current hour is partly before it) to the last
    # complete one.
    hours = 11 - int(since > start)
    assert sum(design["blocks"].values()) == 4 * hours
    live.release_store()
    engine = DuckDBEngine(live.store)
    last = max(datetime.fromisoformat(e["timestamp"].rstrip("Z")) for e in events)
    (ref,) = analyze_switchback(engine, spec, last + timedelta(microseconds=1), since=since)
    effect = next(e for e in analysis["effects"] if e["metric"] == "orders")
    for field in ("abs_effect", "abs_se", "rel_effect", "rel_ci_low", "p_value"):
        assert _close(effect["raw"][field], float(getattr(ref.result, field)[0])), field


def test_ego_cluster_example_served_and_analysed(live: Live, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    from shipit.sim.spillover import simulate_spillover

    text = (EXAMPLES / "ego_feed.yaml").read_text()
    edges_file = tmp_path / "friendships.parquet"
    text = text.replace("edges: friendships.parquet", f"edges: {edges_file}")
    (spec,) = loads_experiments(text)
    _create(live, text, spec.key)
    # The friendship graph and outcomes of the spillover simulation, under this spec.
    data = simulate_spillover(spec, seed=3, units=400)
    data.edges.to_parquet(edges_file)
    units = list(data.exposures["unit_id"])
    clusters = ego_clusters(data.edges["unit_id"], data.edges["neighbour_id"],
                            salt=spec.hash_salt, population=units)  # fmt: skip
    with live.client(live.sdk) as sdk:
        body = {"experiment": spec.key, "log_exposures": True,
                "units": [{"unit_id": u, "attributes": {"ego_cluster": clusters[u]}}
                          for u in units]}  # fmt: skip
        served = [a["variant"] for a in sdk.post("/v1/assign", json=body).json()["assignments"]]
        assert served == list(data.exposures["variant"])  # the variant = its ego cluster's
        later = pd.Timestamp(datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        values = data.events["value"]
        events = [{"event_id": f"s{i}", "unit_id": u, "event": "session", "timestamp": later,
                   "value": float(v)}
                  for i, (u, v) in enumerate(zip(units, values, strict=True))]  # fmt: skip
        _post(sdk, "/v1/events", "events", events)
    analysis = _analyse(live, spec.key)
    exposure = analysis["design"]["exposure"]
    assert analysis["design"]["kind"] == "ego_cluster"
    assert exposure["units_with_neighbours"] > 300
    direct, spill = exposure["direct"], exposure["spillover"]
    assert direct["ci_low"] < data.direct < direct["ci_high"]
    assert spill["ci_low"] < data.spillover < spill["ci_high"]
