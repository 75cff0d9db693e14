"""Experiment specs: pydantic models, YAML load/dump, validation with clear messages."""

from __future__ import annotations

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
from shipit.spec.plan import AnalysisPlan, BayesianPlan, Prior, SequentialPlan
from shipit.spec.targeting import AllOf, AnyOf, Condition, Not, Rule, may_overlap

__all__ = [
    "Aggregate",
    "AllOf",
    "AnalysisPlan",
    "AnyOf",
    "BayesianPlan",
    "Condition",
    "Covariate",
    "Decision",
    "Experiment",
    "Guardrail",
    "Holdout",
    "MetricDef",
    "Namespace",
    "Not",
    "Prior",
    "Rule",
    "SequentialPlan",
    "SpecValidationError",
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
