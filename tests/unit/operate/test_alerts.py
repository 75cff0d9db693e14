"""Alert rules fire once per change of state; the lease admits one holder; the spec field."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import date

import pytest
from pydantic import ValidationError

from operate.build import analysis, experiment
from shipit.operate.alerts import Alert, evaluate_rules, observe
from shipit.operate.notify import body_for, sign, verify
from shipit.registry import SqlAlchemyRepository
from shipit.registry.monitoring import MonitorState
from shipit.result.model import Effect, SequentialBounds
from shipit.spec import Decision
from shipit.spec.monitoring import Monitoring, parse_every


def _states(observed: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {rule: state for rule, (state, _) in observed.items()}


def test_each_alert_fires_once_per_change_of_state() -> None:
    exp = experiment(end="2026-12-01", start="2026-11-01")
    red = observe(analysis(light="red", decision=Decision.ROLL_BACK), exp, date(2026, 11, 20))
    fired = evaluate_rules(red, {})
    assert [a.rule for a in fired] == ["guardrail"]  # the first verdict is a baseline
    assert fired[0].state == "load/b"
    assert evaluate_rules(red, _states(red)) == []  # same state: nothing new
    later = observe(analysis(light="green", srm="fail"), exp, date(2026, 12, 2))
    changed = evaluate_rules(later, _states(red))
    assert [a.rule for a in changed] == ["srm", "guardrail", "verdict", "past_end"]
    resolved = [a for a in changed if a.resolved]  # green again: the red alert ended
    assert [(a.rule, a.state) for a in resolved] == [("guardrail", "")]
    assert "resolved" in resolved[0].message
    assert "load/b" in resolved[0].message
    assert evaluate_rules(later, _states(later)) == []  # resolved fires once
    back = observe(analysis(light="red", decision=Decision.ROLL_BACK), exp, date(2026, 12, 3))
    again = [(a.rule, a.resolved) for a in evaluate_rules(back, _states(later))]
    assert again == [("srm", True), ("guardrail", False), ("verdict", False)]  # red again


def test_a_crossed_sequential_boundary_is_a_state() -> None:
    base = analysis()
    crossed = base.effects[0].model_copy(
        update={"sequential": SequentialBounds(crossed="upper", statistic=3.1)}
    )
    result = base.model_copy(update={"effects": (crossed,)})
    observed = observe(result, experiment(), date(2026, 12, 1))
    assert observed["sequential"][0] == "conv/b:upper"
    assert [a.rule for a in evaluate_rules(observed, {})] == ["sequential"]
    assert isinstance(base.effects[0], Effect)


def test_signature_is_the_hex_hmac_sha256_of_the_body() -> None:
    body = body_for(
        "json",
        key="exp",
        alerts=[Alert("srm", "srm", "mismatch")],
        verdict="halt",
        reasons=["srm failed"],
        link="http://x/experiments/exp",
        action=None,
    )
    reference = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert sign(body, "k") == f"sha256={reference}"
    assert verify(body, "k", f"sha256={reference}")
    assert not verify(body + b" ", "k", f"sha256={reference}")
    assert json.loads(body)["rules"] == ["srm"]
    assert json.loads(body)["alerts"][0]["resolved"] is False
    ended = body_for(
        "json",
        key="exp",
        alerts=[Alert("srm", "", "resolved")],
        verdict="ship",
        reasons=[],
        link="",
        action=None,
    )
    assert json.loads(ended)["alerts"][0]["resolved"] is True
    slack = json.loads(
        body_for(
            "slack",
            key="exp",
            alerts=[Alert("srm", "srm", "mismatch")],
            verdict="halt",
            reasons=[],
            link="http://x",
            action="kill_switch_on",
        )
    )
    assert set(slack) == {"text"}
    assert "mismatch" in slack["text"]
    assert "kill_switch_on" in slack["text"]


def test_the_lease_admits_one_holder_until_released_or_expired(
    registry: SqlAlchemyRepository,
) -> None:
    state = MonitorState(registry.engine)
    assert state.acquire("monitor", "a", 60)
    assert not state.acquire("monitor", "b", 60)
    assert state.acquire("monitor", "a", 60)  # renewed by its holder
    state.release("monitor", "a")
    assert state.acquire("monitor", "b", 0.2)
    time.sleep(0.3)
    assert state.acquire("monitor", "a", 60)  # b's lease expired


def test_alert_states_are_stored_per_rule(registry: SqlAlchemyRepository) -> None:
    state = MonitorState(registry.engine)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    state.set_alert_states("exp", {"srm": "", "guardrail": "load/b"}, now)
    state.set_alert_states("exp", {"srm": "srm", "guardrail": "load/b"}, now)
    stored = state.alert_states("exp")
    assert {r: s.state for r, s in stored.items()} == {"srm": "srm", "guardrail": "load/b"}


def test_monitoring_spec_field() -> None:
    assert parse_every("90m") == 5400
    assert parse_every("1d") == 86_400
    m = Monitoring.model_validate({"every": "1h", "notify": [{"webhook": "https://h/x"}]})
    assert m.every_seconds == 3600
    assert m.notify[0].format == "json"
    exp = experiment(monitoring={"every": "2h", "auto_rollback": True})
    assert exp.monitoring is not None
    assert exp.monitoring.auto_rollback
    for bad in ({"every": "soon"}, {"every": "0h"}, {"notify": [{"webhook": "ftp://x"}]}):
        with pytest.raises(ValidationError):
            Monitoring.model_validate(bad)
    with pytest.raises(ValidationError, match="secret_env"):
        Monitoring.model_validate({"notify": [{"webhook": "https://x", "secret_env": "1-bad"}]})
