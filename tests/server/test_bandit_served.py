"""A bandit served over real HTTP: examples/bandit.yaml is created and started through the
API, the SDK assigns with the current period's weights (the server's ``POST /v1/assign``
agrees), simulated rewards arrive as events, ``POST .../bandit/update`` opens each next
period from the store, and the weights move to the better variant. The analysis (over HTTP
and ``shipit analyze``) gives inverse-propensity estimates that cover the true rates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from server.live import Live
from shipit.cli.main import app
from shipit.sdk import ShipitClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bandit.yaml"
RATES = {"current": 0.10, "bold": 0.10, "short": 0.25}  # the true conversion rates
UNITS = 1500  # new units per allocation period
PERIODS = 4


@pytest.mark.slow
def test_bandit_served_over_http_moves_to_the_better_variant(live: Live, tmp_path: Path) -> None:
    with live.client(live.admin) as admin:
        created = admin.post("/v1/experiments", json={"yaml": EXAMPLE.read_text()})
        assert created.status_code == 201, created.text
        assert admin.post("/v1/experiments/headline-bandit/start").status_code == 200
    client = ShipitClient(live.url, live.sdk, start=False, batch_size=5_000)
    rng = np.random.default_rng(21)
    shares = []
    for period in range(PERIODS):
        assert client.refresh()
        units = np.array([f"p{period}-u{i}" for i in range(UNITS)], dtype=object)
        batch = client.assign_batch("headline-bandit", units)
        assert batch is not None
        variants = batch.variant_array()
        counts = batch.counts()
        shares.append(counts["short"] / UNITS)
        with live.client(live.sdk) as sdk:  # the server serves the same weights
            sample = [{"unit_id": str(u)} for u in units[:300]]
            body = {"experiment": "headline-bandit", "units": sample}
            served = sdk.post("/v1/assign", json=body).json()["assignments"]
        assert [a["variant"] for a in served] == variants[:300].tolist()
        converts = rng.random(UNITS) < np.array([RATES[v] for v in variants])
        for unit in units[converts]:
            client.track("signup", str(unit))
        assert client.flush()
        with live.client(live.admin) as admin:
            update = admin.post("/v1/experiments/headline-bandit/bandit/update", json={})
            assert update.json()["updated"] is False  # update_every (1h) has not passed
            update = admin.post(
                "/v1/experiments/headline-bandit/bandit/update", json={"force": True}
            )
        assert update.status_code == 200, update.text
        doc = update.json()
        assert doc["updated"]
        assert len(doc["periods"]) == period + 2
    weights = doc["periods"][-1]["weights"]
    assert weights["short"] > 0.8, weights  # the better variant gets the traffic
    assert min(weights.values()) >= 0.05 - 1e-9  # each keeps its minimum share
    assert shares[0] < 0.45, shares  # serving followed the weights: a third at first,
    assert shares[-1] > 0.7, shares  # most at the end

    with live.client(live.admin) as admin:
        analysed = admin.post("/v1/experiments/headline-bandit/analyses")
    assert analysed.status_code == 201, analysed.text
    bandit = analysed.json()["bandit"]
    assert bandit["best"] == "short"
    assert bandit["p_best"] > 0.95
    arms = {a["variant"]: a for a in bandit["arms"]}
    for variant, rate in RATES.items():
        assert arms[variant]["ci_low"] <= rate <= arms[variant]["ci_high"], arms[variant]
    assert sum(a["units"] for a in arms.values()) == UNITS * PERIODS
    srm = next(t for t in analysed.json()["trust"] if t["name"] == "srm")
    assert srm["status"] == "pass", srm  # expected split: the periods' weights

    live.release_store()  # the CLI reads the same registry and store
    runner = CliRunner()
    common = ["--database-url", live.database_url]
    out = runner.invoke(app, ["bandit", "periods", "headline-bandit", "--format", "json", *common])
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.output)["periods"]) == PERIODS + 1
    html = tmp_path / "report.html"
    args = ["analyze", "headline-bandit", "--format", "html", "--out", str(html)]
    out = runner.invoke(app, [*args, "--store", live.store, *common])
    assert out.exit_code == 0, out.output
    page = html.read_text()
    assert "Bandit: adaptive-aware estimates" in page
    assert "short is the best variant" in page
