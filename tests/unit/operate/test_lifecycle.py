"""Kill, ramp, decide with the whole vocabulary, and the guarded rollout, on the registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from operate.build import analysis, experiment, save
from shipit.assign import Assigner
from shipit.errors import SpecError, StateError
from shipit.operate.rollout import advance_rollout, rollout_status
from shipit.registry import Decision, SqlAlchemyRepository, Status


def test_kill_turns_the_switch_on_with_who_and_why(registry: SqlAlchemyRepository) -> None:
    registry.create(experiment(forced={"qa": "b"}))
    registry.start("exp")
    record = registry.kill("exp", "ana", reason="checkout errors")
    assert record.experiment.kill_switch
    assert record.status is Status.RUNNING
    entry = registry.audit("exp")[-1]
    assert (entry.action, entry.actor) == ("kill", "ana")
    assert entry.details == {"kill_switch": True, "reason": "checkout errors"}
    registry.kill("exp", "bo")  # already killed: no second entry
    assert [e.action for e in registry.audit("exp")].count("kill") == 1
    batch = Assigner(record.experiment).assign_batch(["u1", "u2", "u3", "qa"])
    assert batch.variant_array().tolist() == ["control", "control", "control", "b"]


def test_ramp_opens_a_phase_and_refuses_what_it_cannot(registry: SqlAlchemyRepository) -> None:
    registry.create(experiment(traffic=0.1))
    with pytest.raises(StateError, match="not running"):
        registry.ramp("exp", 0.5)
    registry.start("exp")
    record = registry.ramp("exp", 0.5, "ana", reason="looks fine")
    assert record.experiment.traffic == 0.5
    assert record.phase is not None
    assert record.phase.number == 2
    assert record.phase.reason == "traffic 0.1 -> 0.5: looks fine"
    assert registry.audit("exp")[-1].action == "ramp"
    with pytest.raises(StateError, match=r"already runs at traffic 0\.5"):
        registry.ramp("exp", 0.5)
    with pytest.raises(SpecError, match=r"traffic must be in \(0, 1\]"):
        registry.ramp("exp", 1.5)


@pytest.mark.parametrize("decision", list(Decision))
def test_decide_records_the_whole_vocabulary(
    registry: SqlAlchemyRepository, decision: Decision
) -> None:
    registry.create(experiment())
    registry.start("exp")
    record = registry.decide("exp", decision, "ana", reason="why", stop_running=True)
    assert (record.status, record.decision) == (Status.DECIDED, decision)
    withdrawn = decision in {Decision.KILL, Decision.ROLL_BACK, Decision.HALT}
    assert record.experiment.kill_switch is withdrawn
    actions = [e.action for e in registry.audit("exp")]
    assert actions[-2:] == ["stop", "decide"]
    assert registry.audit("exp")[-1].details["reason"] == "why"


def test_decide_without_stop_running_still_needs_a_stopped_experiment(
    registry: SqlAlchemyRepository,
) -> None:
    registry.create(experiment())
    registry.start("exp")
    with pytest.raises(StateError, match="it is running"):
        registry.decide("exp", "roll_back")


def test_rollout_advances_step_by_step_after_each_minimum(registry: SqlAlchemyRepository) -> None:
    registry.create(experiment(traffic=0.5))
    registry.start("exp")
    save(registry, analysis())
    status = rollout_status(registry, "exp")
    assert (status.step, len(status.steps), status.blocked) == (0, 5, ())
    first = advance_rollout(registry, "exp", "ana")
    assert first.step == 1
    assert registry.get("exp").experiment.traffic == 0.01
    with pytest.raises(StateError, match="minimum is 1 day"):
        advance_rollout(registry, "exp")
    later = datetime.now(UTC) + timedelta(days=1, minutes=1)
    second = advance_rollout(registry, "exp", now=later)
    assert second.step == 2
    assert registry.get("exp").experiment.traffic == 0.05
    assert registry.get("exp").phase.number == 3  # type: ignore[union-attr]
    steps = [e.details for e in registry.audit("exp") if e.action == "rollout"]
    assert [s["step"] for s in steps] == [1, 2]


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"light": "red"}, "guardrail load .b. is red"),
        ({"primary_effect": -0.05}, "conv .b. is significantly worse"),
        ({"srm": "fail"}, "trust check srm failed"),
        ({"decision": Decision.ROLL_BACK}, "verdict is roll_back: it has no rollout plan"),
    ],
)
def test_rollout_refuses_to_advance_on_breached_criteria(
    registry: SqlAlchemyRepository, kw: dict[str, object], why: str
) -> None:
    registry.create(experiment())
    registry.start("exp")
    save(registry, analysis(**kw))  # type: ignore[arg-type]
    before = registry.audit("exp")
    with pytest.raises(StateError, match=why):
        advance_rollout(registry, "exp")
    assert registry.audit("exp") == before
    assert registry.get("exp").experiment.traffic == 1.0


def test_rollout_refuses_once_complete(registry: SqlAlchemyRepository) -> None:
    registry.create(experiment())
    registry.start("exp")
    save(registry, analysis())
    at = datetime.now(UTC)
    for _ in range(5):
        advance_rollout(registry, "exp", now=at)
        at += timedelta(days=15)
    assert rollout_status(registry, "exp", now=at).done
    with pytest.raises(StateError, match="rollout is complete"):
        advance_rollout(registry, "exp", now=at)
