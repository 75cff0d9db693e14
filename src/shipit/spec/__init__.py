"""Experiment specs: pydantic models, YAML load/dump, validation with clear messages."""

from __future__ import annotations

from shipit.spec.metric import Aggregate, Covariate, MetricDef, Window

__all__ = ["Aggregate", "Covariate", "MetricDef", "Window"]
