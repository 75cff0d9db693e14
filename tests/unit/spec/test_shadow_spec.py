"""The shadow block: type shadow needs it and it needs type shadow; every mistake is named
by its path; assignment serves production to every unit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from shipit.assign import Assigner
from shipit.errors import SpecError
from shipit.spec import Experiment
from shipit.spec.shadow import roles

VARIANTS = [{"key": "prod", "weight": 0.5}, {"key": "cand", "weight": 0.5}]


def _exp(**fields: Any) -> Experiment:
    return Experiment.model_validate({"key": "s", "variants": VARIANTS, **fields})


def test_defaults_production_is_the_control_and_candidate_the_other() -> None:
    exp = _exp(type="shadow", shadow={})
    assert roles(exp) == ("prod", "cand")
    assert exp.shadow is not None
    assert exp.shadow.output == "score"
    assert exp.shadow.offline_metrics() == ()
    labelled = _exp(type="shadow", shadow={"label": {"event": "y"}})
    assert labelled.shadow is not None
    assert labelled.shadow.offline_metrics() == ("accuracy", "mse", "log_loss")


def _sh(**block: Any) -> dict[str, Any]:
    return {"type": "shadow", "shadow": block}


LABEL = {"event": "y", "property": "l"}
MISTAKES = [
    ({"type": "shadow"}, "shadow: required when type is 'shadow'"),
    ({"shadow": {}}, "shadow: a shadow block needs type: shadow"),
    (_sh(candidate="x"), "shadow.candidate: unknown variant 'x'"),
    (_sh(production="cand"), "shadow.production: production 'cand' must be the control"),
    (_sh(candidate="prod"), "shadow.candidate: 'prod' is already production"),
    (
        _sh(output="label", metrics=["mse"], label=LABEL),
        "shadow.metrics[0]: 'mse' does not apply to label outputs",
    ),
    (_sh(metrics=["mse"]), "shadow.label: required for offline metrics"),
    (
        _sh(output="ranking", label={"event": "y"}),
        "shadow.label.property: required for ranking outputs",
    ),
    (
        {**_sh(), "forced": {"qa": "cand"}},
        "forced.qa: a shadow experiment serves production only",
    ),
    (_sh(tolerance=-1), "shadow.tolerance"),
    (_sh(latency_quantiles=[0.5, 1.0]), "shadow.latency_quantiles"),
    (_sh(output="embedding"), "shadow.output"),
]


@pytest.mark.parametrize(("fields", "message"), MISTAKES)
def test_mistakes_are_named_by_their_path(fields: dict[str, Any], message: str) -> None:
    # Cross-field rules raise SpecError; field rules pydantic's error (the loader names both).
    pattern = message.replace("[", r"\[").replace("]", r"\]")
    with pytest.raises((SpecError, ValidationError), match=pattern):
        _exp(**fields)


def test_three_variants_need_the_candidate_named() -> None:
    three = [{"key": k, "weight": 1 / 3} for k in ("prod", "a", "b")]
    with pytest.raises(SpecError, match=r"shadow\.candidate: required with 3 variants"):
        Experiment.model_validate({"key": "s", "variants": three, "type": "shadow", "shadow": {}})
    exp = Experiment.model_validate(
        {"key": "s", "variants": three, "type": "shadow", "shadow": {"candidate": "b"}}
    )
    assert roles(exp) == ("prod", "b")


def test_assignment_never_serves_the_candidate() -> None:
    for control in ("prod", "cand"):
        exp = _exp(type="shadow", shadow={}, control=control, traffic=0.7)
        a = Assigner(exp)
        units = np.array([f"user-{i}" for i in range(20_000)], dtype=object)
        batch = a.assign_batch(units)
        counts = batch.counts()
        production = roles(exp)[0]
        assert {k for k, v in counts.items() if v} == {production}
        assert counts[production] == pytest.approx(0.7 * len(units), rel=0.03)
        single = {a.assign(str(u)).variant for u in units[:2000]}
        assert single <= {production, None}
        assert batch.variant_array()[:2000].tolist() == [
            a.assign(str(u)).variant for u in units[:2000]
        ]
    killed = Assigner(_exp(type="shadow", shadow={}, kill_switch=True))
    assert killed.assign("u1").variant == "prod"


def test_an_ab_spec_is_untouched() -> None:
    exp = _exp()
    counts = (
        Assigner(exp).assign_batch(np.array([f"u{i}" for i in range(4000)], dtype=object)).counts()
    )
    assert counts["cand"] > 1500
