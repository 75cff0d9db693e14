"""The bandit block of a spec: defaults, and every cross-field mistake named by its path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shipit.errors import SpecError
from shipit.spec import BanditSpec, Experiment, load_experiment
from shipit.spec.io import loads_experiments


def _spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "key": "b",
        "type": "bandit",
        "bandit": {"reward": "converted"},
        "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
        "metrics": [
            {"name": "converted", "event": "buy", "aggregation": "any"},
            {"name": "revenue", "event": "buy", "aggregation": "sum"},
            {"name": "aov", "numerator": {"event": "buy"}, "denominator": {"event": "visit"}},
            {"name": "p95", "event": "load", "quantile": 0.95},
        ],
    }
    return {**base, **changes}


def test_a_bandit_block_has_defaults_and_round_trips() -> None:
    exp = Experiment.model_validate(_spec())
    assert exp.bandit == BanditSpec(reward="converted")
    assert exp.bandit.policy == "thompson"
    assert exp.bandit.update_seconds == 3600
    assert Experiment.model_validate(exp.to_dict()) == exp
    assert exp.to_dict()["bandit"] == {"reward": "converted"}


def test_the_example_spec_is_a_valid_bandit() -> None:
    exp = load_experiment(Path(__file__).resolve().parents[3] / "examples" / "bandit.yaml")
    assert exp.type == "bandit"
    assert exp.bandit is not None
    assert exp.bandit.reward == "converted"


@pytest.mark.parametrize(
    ("changes", "where", "says"),
    [
        ({"bandit": None}, "bandit", "type: bandit needs a bandit block"),
        ({"type": "ab"}, "bandit", "a bandit block needs type: bandit"),
        ({"bandit": {"reward": "nope"}}, "bandit.reward", "unknown metric 'nope'"),
        ({"bandit": {"reward": "aov"}}, "bandit.reward", "is a ratio metric"),
        ({"bandit": {"reward": "p95"}}, "bandit.reward", "is a quantile metric"),
        (
            {"bandit": {"reward": "converted", "min_share": 0.6}},
            "bandit.min_share",
            "0.6 × 2 variants = 1.2 > 1",
        ),
    ],
)
def test_cross_field_mistakes_name_the_field(
    changes: dict[str, Any], where: str, says: str
) -> None:
    with pytest.raises(SpecError) as caught:
        Experiment.model_validate(_spec(**changes))
    assert f"{where}: " in str(caught.value)
    assert says in str(caught.value)


@pytest.mark.parametrize(
    ("block", "field"),
    [
        ({"reward": "converted", "update_every": "soon"}, "update_every"),
        ({"reward": "converted", "policy": "greedy"}, "policy"),
        ({"reward": "converted", "min_share": -0.1}, "min_share"),
        ({"reward": "converted", "burn_in": -1}, "burn_in"),
        ({"reward": "converted", "extra": 1}, "extra"),
    ],
)
def test_field_mistakes_in_yaml_name_the_field(block: dict[str, Any], field: str) -> None:
    import yaml

    text = yaml.safe_dump(_spec(bandit=block))
    with pytest.raises(SpecError, match=rf"bandit\.{field}"):
        loads_experiments(text, "spec.yaml")


def test_a_continuous_reward_and_three_variants_at_the_floor_are_valid() -> None:
    variants = [{"key": k, "weight": 1 / 3} for k in "xyz"]
    exp = Experiment.model_validate(
        _spec(variants=variants, bandit={"reward": "revenue", "min_share": 1 / 3})
    )
    assert exp.bandit is not None
    assert exp.bandit.min_share == pytest.approx(1 / 3)
