"""The decision policy from an experiment spec: primary, guardrails, alpha, MDE, thresholds."""

from __future__ import annotations

from shipit.decide.policy import DecisionPolicy, GuardrailPolicy
from shipit.spec.experiment import Experiment
from shipit.spec.guardrail import Guardrail
from shipit.spec.metric import MetricDef

__all__ = ["direction", "guardrail_policy", "metric_order", "policy_from_spec"]


def metric_order(exp: Experiment) -> list[str]:
    """Primary, secondaries, guardrails, then any other defined metric: each once."""
    defs = exp.metric_defs()
    names = [exp.primary_metric] if exp.primary_metric else []
    names += list(exp.secondary_metrics) + [g.metric for g in exp.guardrails] + list(defs)
    return list(dict.fromkeys(n for n in names if n is not None))


def direction(exp: Experiment, metric: MetricDef) -> bool:
    """Whether higher is better: a guardrail's ``direction`` overrides the metric's."""
    for g in exp.guardrails:
        if g.metric == metric.name and g.direction is not None:
            return g.direction == "higher_is_better"
    return metric.higher_is_better


def guardrail_policy(g: Guardrail) -> GuardrailPolicy:
    """Margin of the non-inferiority test: the margin, else the threshold, else zero."""
    if g.relative_margin is not None:
        return GuardrailPolicy(metric=g.metric, margin=g.relative_margin, relative=True)
    if g.margin is not None:
        return GuardrailPolicy(metric=g.metric, margin=g.margin, relative=False)
    if g.relative_threshold is not None:
        return GuardrailPolicy(metric=g.metric, margin=g.relative_threshold, relative=True)
    if g.threshold is not None:
        return GuardrailPolicy(metric=g.metric, margin=g.threshold, relative=False)
    return GuardrailPolicy(metric=g.metric, margin=0.0, relative=True)


def policy_from_spec(exp: Experiment) -> DecisionPolicy:
    """The decide package's policy, read from the experiment's analysis plan."""
    plan = exp.analysis
    primary = exp.primary_metric or metric_order(exp)[0]
    return DecisionPolicy(
        method=plan.method,
        primary=primary,
        alpha=plan.alpha,
        power=plan.power,
        mde=plan.mde or 0.0,
        mde_relative=plan.mde_relative,
        guardrails=tuple(guardrail_policy(g) for g in exp.guardrails),
        prob_threshold=plan.bayesian.prob_threshold,
        loss_threshold=plan.bayesian.loss_tolerance,
        correction=plan.correction,
        secondary=tuple(m for m in exp.secondary_metrics if m != primary),
    )
