"""Experiment specs: pydantic models, YAML load/dump, validation with clear messages.

Names load on first use: importing one small module of the package (``spec.decision``,
say) does not import every model, pydantic's validators and numpy with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipit._lazy import lazy_names

if TYPE_CHECKING:
    from shipit.spec._problems import SpecValidationError
    from shipit.spec.decision import Decision
    from shipit.spec.experiment import Experiment, Holdout, Namespace, Variant
    from shipit.spec.guardrail import Guardrail
    from shipit.spec.io import (
        check_file_conflicts,
        dump_experiment,
        dump_experiments,
        load_experiment,
        load_experiments,
        load_metrics,
        loads_experiments,
    )
    from shipit.spec.metric import Aggregate, Covariate, MetricDef, Window
    from shipit.spec.monitoring import Monitoring, Notify
    from shipit.spec.plan import AnalysisPlan, BayesianPlan, Prior, SequentialPlan
    from shipit.spec.source import TableSource
    from shipit.spec.targeting import AllOf, AnyOf, Condition, Not, Rule, may_overlap

__all__ = [
    "Aggregate",
    "AllOf",
    "AnalysisPlan",
    "AnyOf",
    "BanditSpec",
    "BayesianPlan",
    "Condition",
    "Covariate",
    "Decision",
    "Experiment",
    "Guardrail",
    "Holdout",
    "MetricDef",
    "Monitoring",
    "Namespace",
    "Not",
    "Notify",
    "Prior",
    "Rule",
    "SequentialPlan",
    "SpecValidationError",
    "TableSource",
    "Variant",
    "Window",
    "check_file_conflicts",
    "dump_experiment",
    "dump_experiments",
    "load_experiment",
    "load_experiments",
    "load_metrics",
    "loads_experiments",
    "may_overlap",
]

_WHERE: dict[str, str] = {
    "Aggregate": "shipit.spec.metric",
    "AllOf": "shipit.spec.targeting",
    "AnalysisPlan": "shipit.spec.plan",
    "AnyOf": "shipit.spec.targeting",
    "BanditSpec": "shipit.spec.bandit",
    "BayesianPlan": "shipit.spec.plan",
    "Condition": "shipit.spec.targeting",
    "Covariate": "shipit.spec.metric",
    "Decision": "shipit.spec.decision",
    "Experiment": "shipit.spec.experiment",
    "Guardrail": "shipit.spec.guardrail",
    "Holdout": "shipit.spec.experiment",
    "MetricDef": "shipit.spec.metric",
    "Monitoring": "shipit.spec.monitoring",
    "Namespace": "shipit.spec.experiment",
    "Not": "shipit.spec.targeting",
    "Notify": "shipit.spec.monitoring",
    "Prior": "shipit.spec.plan",
    "Rule": "shipit.spec.targeting",
    "SequentialPlan": "shipit.spec.plan",
    "SpecValidationError": "shipit.spec._problems",
    "TableSource": "shipit.spec.source",
    "Variant": "shipit.spec.experiment",
    "Window": "shipit.spec.metric",
    "check_file_conflicts": "shipit.spec.io",
    "dump_experiment": "shipit.spec.io",
    "dump_experiments": "shipit.spec.io",
    "load_experiment": "shipit.spec.io",
    "load_experiments": "shipit.spec.io",
    "load_metrics": "shipit.spec.io",
    "loads_experiments": "shipit.spec.io",
    "may_overlap": "shipit.spec.targeting",
}


__getattr__, __dir__ = lazy_names(globals(), _WHERE)
