"""The rank-test, bootstrap and fairness fields: defaults, kinds, and clear refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shipit.spec.metric import MetricDef
from shipit.spec.plan import AnalysisPlan


def test_defaults_and_kinds() -> None:
    m = MetricDef(name="rev", event="buy")
    assert (m.test, m.interval, m.resamples, m.seed) == ("default", "default", 1000, 0)
    assert MetricDef(name="c", event="click", test="mann_whitney").kind == "rank"
    boot = MetricDef(name="p50", event="buy", quantile=0.5, interval="bootstrap")
    assert (boot.kind, boot.base_kind) == ("bootstrap", "quantile")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"numerator": {"event": "a"}, "denominator": {"event": "b"}, "test": "mann_whitney"},
            "per-unit metric",
        ),
        ({"event": "a", "quantile": 0.5, "test": "mann_whitney"}, "per-unit metric"),
        ({"event": "a", "test": "mann_whitney", "interval": "bootstrap"}, "its own interval"),
        ({"event": "a", "test": "mann_whitney", "winsorize": 0.99}, "cannot be winsorized"),
        (
            {"event": "a", "interval": "bootstrap", "covariates": [{"name": "x", "event": "a"}]},
            "takes no covariates",
        ),
        ({"event": "a", "interval": "bootstrap", "resamples": 10}, "resamples"),
        ({"event": "a", "test": "t_test"}, "test"),
    ],
)
def test_bad_combinations_name_the_metric_and_the_field(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        MetricDef(name="bad", **fields)  # type: ignore[arg-type]


def test_fairness_attributes_are_distinct() -> None:
    assert AnalysisPlan(fairness=("age_band", "gender")).fairness == ("age_band", "gender")
    with pytest.raises(ValidationError, match="fairness"):
        AnalysisPlan(fairness=("age_band", "age_band"))
