"""``shipit kill|ramp|decide|rollout``: the lifecycle without PUTting a spec."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shipit.cli.main import app
from shipit.decide.rollout import rollout_plan
from shipit.errors import StateError
from shipit.registry import open_registry
from shipit.registry.analyses import AnalysisRepository
from shipit.result.model import Analysis, GuardrailResult, Verdict
from shipit.result.schema import to_json
from shipit.spec import Decision

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KEY = "checkout-button-color"
runner = CliRunner()


def _started() -> None:
    spec = str(EXAMPLES / "checkout_button.yaml")
    assert runner.invoke(app, ["experiment", "create", spec]).exit_code == 0
    assert runner.invoke(app, ["experiment", "start", KEY]).exit_code == 0


def _save(light: str, decision: Decision = Decision.SHIP) -> None:
    rail = GuardrailResult(
        metric="page_load_ms",
        variant="green",
        margin=0.05,
        light=light,
        message=light,  # type: ignore[arg-type]
    )
    plan = rollout_plan((rail,), "converted") if decision is Decision.SHIP else ()
    analysis = Analysis(
        experiment=KEY,
        control="control",
        variants=("control", "green"),
        primary="converted",
        guardrails=(rail,),
        verdict=Verdict(decision=decision, reasons=("page_load_ms is red",), rollout=plan),
    )
    repo = open_registry()
    AnalysisRepository(repo.engine).save(KEY, to_json(analysis), actor="test")
    repo.close()


def test_kill_and_ramp() -> None:
    _started()
    ramped = runner.invoke(app, ["ramp", KEY, "--to", "0.5", "--reason", "fine so far"])
    assert ramped.output == f"ramped {KEY}: traffic 0.5, phase 2\n"
    killed = runner.invoke(app, ["kill", KEY, "--reason", "errors", "--actor", "ana"])
    assert killed.output == f"killed {KEY}: kill switch on, running\n"
    entry = open_registry().audit(KEY)[-1]
    assert (entry.action, entry.actor, entry.details["reason"]) == ("kill", "ana", "errors")


def test_decide_takes_the_verdict_when_no_decision_is_given() -> None:
    _started()
    _save("red", Decision.ROLL_BACK)
    result = runner.invoke(app, ["decide", KEY])
    assert result.output == f"decided {KEY}: roll_back, kill switch on\n"
    assert open_registry().audit(KEY)[-1].details["reason"] == "page_load_ms is red"


def test_decide_ship_to_segment() -> None:
    _started()
    result = runner.invoke(app, ["decide", KEY, "--decision", "ship_to_segment"])
    assert result.output == f"decided {KEY}: ship_to_segment\n"


def test_rollout_refuses_on_a_red_guardrail_and_advances_on_green() -> None:
    _started()
    _save("red")
    refused = runner.invoke(app, ["rollout", KEY, "--advance"])
    assert isinstance(refused.exception, StateError)
    assert "rollback criteria are breached" in str(refused.exception)
    _save("green")
    shown = runner.invoke(app, ["rollout", KEY])
    assert "step 0 of 5" in shown.output
    assert "roll back if page_load_ms worse than" in shown.output
    advanced = runner.invoke(app, ["rollout", KEY, "--advance"])
    assert (
        advanced.output == f"advanced {KEY} to step 1 of 5: 1% of traffic for at least 1 day(s)\n"
    )
    assert open_registry().get(KEY).experiment.traffic == 0.01
    again = runner.invoke(app, ["rollout", KEY, "--advance"])
    assert "minimum is 1 day(s)" in str(again.exception)
