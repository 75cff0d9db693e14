"""Experiment validation: one clear message per mistake, with the YAML path."""

from __future__ import annotations

from typing import Any

import pytest

from shipit.errors import SpecError
from shipit.spec import Experiment, SpecValidationError

BASE: dict[str, Any] = {
    "key": "exp",
    "variants": [{"key": "control", "weight": 0.5}, {"key": "b", "weight": 0.5}],
    "metrics": [
        {"name": "revenue", "event": "purchase", "value": "amount"},
        {"name": "latency", "event": "load", "higher_is_better": False},
    ],
    "primary_metric": "revenue",
}


def _make(**changes: Any) -> Experiment:
    return Experiment.model_validate({**BASE, **changes})


def _problem(**changes: Any) -> str:
    with pytest.raises(SpecValidationError) as info:
        _make(**changes)
    assert isinstance(info.value, SpecError)
    return str(info.value)


def test_a_valid_spec_has_defaults() -> None:
    exp = _make()
    assert exp.control_variant == "control"
    assert exp.hash_salt == "exp"
    assert exp.analysis.alpha == 0.05
    assert exp.analysis.bayesian.prob_threshold == 0.95
    assert exp.analysis.bayesian.loss_tolerance == 0.001
    assert exp.metric("latency").kind == "mean"


def test_weights_must_sum_to_one() -> None:
    message = _problem(variants=[{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.6}])
    assert message == "variants: weights must sum to 1, got 0.5 + 0.6 = 1.1"


def test_duplicate_variant_keys() -> None:
    message = _problem(variants=[{"key": "a", "weight": 0.5}, {"key": "a", "weight": 0.5}])
    assert "variants[1].key: duplicate variant key 'a'" in message


def test_control_must_be_a_variant() -> None:
    assert "control: unknown variant 'x'" in _problem(control="x")


def test_unknown_metric_is_named_with_its_path() -> None:
    message = _problem(secondary_metrics=["nope"])
    assert message.startswith("secondary_metrics[0]: unknown metric 'nope'")
    assert "known metrics: latency, revenue" in message
    assert "primary_metric: unknown metric 'x'" in _problem(primary_metric="x")


def test_guardrail_on_the_primary_metric_is_refused() -> None:
    message = _problem(guardrails=[{"metric": "latency"}, {"metric": "revenue"}])
    assert message.startswith("guardrails[1].metric: 'revenue' is the primary metric")


def test_guardrail_on_an_unknown_metric() -> None:
    assert "guardrails[0].metric: unknown metric 'gone'" in _problem(
        guardrails=[{"metric": "gone"}]
    )


def test_secondary_repeating_the_primary() -> None:
    assert "already the primary metric" in _problem(secondary_metrics=["revenue"])


def test_duplicate_metric_names() -> None:
    metrics = [*BASE["metrics"], {"name": "revenue", "event": "x"}]
    assert "metrics[2].name: metric 'revenue' is already defined" in _problem(metrics=metrics)


def test_forced_variant_must_exist() -> None:
    assert "forced.u1: unknown variant 'zz'" in _problem(forced={"u1": "zz"})


def test_excluded_and_forced_unit() -> None:
    assert "exclude[0]: unit 'u1' is both excluded and forced" in _problem(
        exclude=["u1"], forced={"u1": "b"}
    )


def test_end_before_start() -> None:
    assert "end: planned end" in _problem(start="2026-12-10", end="2026-12-01")


def test_several_mistakes_give_one_line_each() -> None:
    message = _problem(control="x", secondary_metrics=["nope"])
    assert len(message.splitlines()) == 2


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"traffic": 0}, "traffic"),
        ({"traffic": 1.5}, "traffic"),
        ({"variants": [{"key": "a", "weight": 1.0}]}, "variants"),
        ({"namespace": {"name": "n", "range": [0.5, 0.2]}}, "0 <= start < end <= 1"),
        ({"holdout": {"name": "h", "fraction": 1.0}}, "holdout"),
        ({"hash_version": 9}, "hash_version"),
        ({"key": "bad key!"}, "key"),
        ({"analysis": {"alpha": 1.5}}, "alpha"),
        ({"analysis": {"method": "magic"}}, "method"),
        ({"analysis": {"correction": "sidakk"}}, "correction"),
        ({"analysis": {"bayesian": {"prior": {"kind": "normal"}}}}, "normal prior needs sd"),
        ({"guardrails": [{"metric": "latency", "margin": 1, "relative_margin": 1}]}, "margin"),
        ({"targeting": {"attribute": "x"}}, "a rule needs an operator"),
        ({"targeting": {"attribute": "x", "gt": 5, "lt": 2}}, "is empty"),
        ({"targeting": {"attribute": "x", "regex": "("}}, "invalid regular expression"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_field_rules_are_enforced(changes: dict[str, Any], fragment: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=fragment):
        _make(**changes)


def test_plan_settings_for_later_analyses() -> None:
    exp = _make(
        analysis={
            "method": "sequential",
            "mde": 0.02,
            "mde_relative": False,
            "correction": "holm",
            "sequential": {"kind": "gst", "horizon": 1000, "looks": 4, "spending": "pocock"},
            "bayesian": {"prior": {"kind": "normal", "sd": 0.1}},
            "cuped": False,
            "segments": ["country"],
        },
        control="b",
    )
    assert exp.analysis.sequential.looks == 4
    assert exp.analysis.bayesian.prior.sd == 0.1
    assert exp.control_variant == "b"
