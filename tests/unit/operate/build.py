"""Hand-built experiments and stored analyses for the operate tests."""

from __future__ import annotations

from typing import Any

from shipit.decide.rollout import rollout_plan
from shipit.registry import SqlAlchemyRepository
from shipit.registry.analyses import AnalysisRepository
from shipit.result.model import Analysis, Effect, Estimate, GuardrailResult, TrustCheck, Verdict
from shipit.result.schema import to_json
from shipit.spec import Decision, Experiment


def experiment(key: str = "exp", **kw: Any) -> Experiment:
    """A two-variant experiment with a primary metric and a guardrail."""
    data: dict[str, Any] = {
        "key": key,
        "variants": [{"key": "control", "weight": 0.5}, {"key": "b", "weight": 0.5}],
        "metrics": [
            {"name": "conv", "event": "buy", "aggregation": "any"},
            {"name": "load", "event": "view", "aggregation": "sum", "higher_is_better": False},
        ],
        "primary_metric": "conv",
        "guardrails": [{"metric": "load", "relative_threshold": 0.05}],
    }
    data.update(kw)
    return Experiment.model_validate(data)


def guardrail(light: str = "green") -> GuardrailResult:
    """The load guardrail of variant b, in the light given."""
    return GuardrailResult(
        metric="load",
        variant="b",
        margin=0.05,
        higher_is_better=False,
        light=light,  # type: ignore[arg-type]
        message=f"load is {light}",
    )


def analysis(
    key: str = "exp",
    *,
    decision: Decision = Decision.SHIP,
    light: str = "green",
    primary_p: float = 0.01,
    primary_effect: float = 0.05,
    srm: str = "pass",
) -> Analysis:
    """An analysis of ``key`` with the verdict, guardrail light, primary effect and SRM given."""
    rails = (guardrail(light),)
    plan = rollout_plan(rails, "conv") if decision is Decision.SHIP else ()
    effect = Effect(
        metric="conv",
        variant="b",
        control="control",
        raw=Estimate(rel_effect=primary_effect, p_value=primary_p),
    )
    return Analysis(
        experiment=key,
        control="control",
        variants=("control", "b"),
        primary="conv",
        effects=(effect,),
        guardrails=rails,
        trust=(TrustCheck(name="srm", status=srm, message=f"srm {srm}"),),  # type: ignore[arg-type]
        verdict=Verdict(decision=decision, variant="b", reasons=("because",), rollout=plan),
    )


def save(repo: SqlAlchemyRepository, result: Analysis) -> None:
    """Store an analysis as POST /analyses does."""
    AnalysisRepository(repo.engine).save(result.experiment, to_json(result), actor="test")
