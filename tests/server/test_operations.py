"""Operating over HTTP: kill, ramp, decide with the whole vocabulary, rollout, portfolio."""

from __future__ import annotations

import httpx

from server.live import SPEC_YAML, Live
from shipit.decide.rollout import rollout_plan
from shipit.registry import open_registry
from shipit.registry.analyses import AnalysisRepository
from shipit.result.model import Analysis, GuardrailResult, Verdict
from shipit.result.schema import to_json
from shipit.spec import Decision


def _running(c: httpx.Client) -> None:
    assert c.post("/v1/experiments", json={"yaml": SPEC_YAML}).status_code == 201
    assert c.post("/v1/experiments/checkout/start").status_code == 200


def _save(live: Live, light: str) -> None:
    rail = GuardrailResult(
        metric="revenue", variant="green", margin=0.05, light=light, message=light
    )  # type: ignore[arg-type]
    analysis = Analysis(
        experiment="checkout",
        control="control",
        variants=("control", "green"),
        primary="converted",
        guardrails=(rail,),
        verdict=Verdict(decision=Decision.SHIP, rollout=rollout_plan((rail,), "converted")),
    )
    repo = open_registry(live.database_url)
    AnalysisRepository(repo.engine).save("checkout", to_json(analysis), actor="test")
    repo.close()


def test_kill_ramp_and_the_whole_decision_vocabulary(live: Live) -> None:
    with live.client(live.admin) as c:
        _running(c)
        r = c.post("/v1/experiments/checkout/ramp", json={"traffic": 0.3, "reason": "ok"})
        assert r.status_code == 200, r.text
        assert r.json()["phase"] == 2
        assert c.post("/v1/experiments/checkout/ramp", json={"traffic": 2}).status_code == 422
        r = c.post("/v1/experiments/checkout/kill", json={"reason": "errors"})
        assert r.json()["spec"]["kill_switch"] is True
        history = c.get("/v1/experiments/checkout/history").json()
        assert history[-1]["action"] == "kill"
        assert history[-1]["detail"]["reason"] == "errors"
        c.post("/v1/experiments/checkout/stop")
        r = c.post(
            "/v1/experiments/checkout/decide", json={"decision": "roll_back", "reason": "slow"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["decision"] == "roll_back"
        portfolio = c.get("/v1/portfolio").json()
        assert portfolio["decisions"] == {"roll_back": 1}
        assert c.get("/v1/experiments/checkout/deliveries").json() == []


def test_rollout_refused_while_red_and_advanced_when_green(live: Live) -> None:
    with live.client(live.admin) as c:
        _running(c)
        _save(live, "red")
        r = c.post("/v1/experiments/checkout/rollout/advance")
        assert r.status_code == 409
        assert "rollback criteria are breached" in r.json()["detail"]
        _save(live, "green")
        r = c.post("/v1/experiments/checkout/rollout/advance")
        assert r.status_code == 200, r.text
        assert (r.json()["step"], r.json()["traffic"]) == (1, 0.01)
        blocked = c.get("/v1/experiments/checkout/rollout").json()["blocked"]
        assert any("minimum is 1 day" in b for b in blocked)
    with live.client(live.read) as c:
        assert c.post("/v1/experiments/checkout/rollout/advance").status_code == 403


def test_deliveries_show_the_resend_chain(live: Live) -> None:
    from shipit.registry.monitoring import MonitorState

    with live.client(live.admin) as c:
        _running(c)
    repo = open_registry(live.database_url)
    state = MonitorState(repo.engine)
    sent = {"body": b'{"experiment": "checkout"}', "format": "json", "secret_env": "HOOK"}
    first = state.record_delivery(
        "checkout", "http://127.0.0.1:9/hook", ["srm"], ok=False, attempts=4,
        status_code=503, error="HTTP 503", **sent,  # type: ignore[arg-type]
    )  # fmt: skip
    [original] = state.deliveries("checkout")
    again = state.record_delivery(
        "checkout", original.url, original.rules, ok=True, attempts=1, status_code=200,
        resending=original, **sent,  # type: ignore[arg-type]
    )  # fmt: skip
    repo.close()
    with live.client(live.read) as c:
        rows = c.get("/v1/experiments/checkout/deliveries").json()
    assert [(r["id"], r["ok"], r["resend"], r["resend_of"], r["superseded_by"]) for r in rows] == [
        (first, False, 0, None, again),
        (again, True, 1, first, None),
    ]
    assert rows[1]["first_at"] == rows[0]["first_at"] == rows[0]["at"]
    assert (rows[1]["format"], rows[1]["secret_env"]) == ("json", "HOOK")
    assert "body" not in rows[0]
    page = httpx.get(
        f"{live.url}/experiments/checkout", headers={"Authorization": f"Bearer {live.read}"}
    )
    assert "failed after 4 attempts (HTTP 503): HTTP 503; sent again</td>" in page.text
    assert "delivered (resend 1)</td>" in page.text
