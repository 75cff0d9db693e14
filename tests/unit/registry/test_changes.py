"""Edits of a running experiment: the hash slices and the analysis plan are fixed per phase."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipit.assign import Assigner
from shipit.errors import StateError
from shipit.registry import SqlAlchemyRepository
from shipit.registry.changes import analysis_plan, randomization, units_moved
from shipit.spec import Experiment

METRICS = [
    {"name": "converted", "event": "purchase", "aggregation": "any"},
    {"name": "revenue", "event": "purchase", "aggregation": "sum"},
    {"name": "latency", "event": "page", "aggregation": "max", "higher_is_better": False},
]
CONTROL_B = [{"key": "control", "weight": 0.5}, {"key": "b", "weight": 0.5}]


def _exp(key: str = "exp", **kw: Any) -> Experiment:
    data: dict[str, Any] = {
        "key": key,
        "variants": CONTROL_B,
        "metrics": METRICS,
        "primary_metric": "converted",
        "secondary_metrics": ["revenue"],
        "guardrails": [{"metric": "latency", "relative_threshold": 0.1}],
        "forced": {"qa-1": "b"},
        "exclude": ["bot-1"],
    }
    data.update(kw)
    return Experiment.model_validate(data)


def _snapshot(repo: SqlAlchemyRepository, key: str = "exp") -> tuple[Any, ...]:
    return (repo.get(key), repo.phases(key), repo.audit(key))


def _running(repo: SqlAlchemyRepository) -> tuple[Any, ...]:
    repo.create(_exp())
    repo.start("exp")
    return _snapshot(repo)


# -- the hash slices ---------------------------------------------------------------------------


def test_reordering_variants_with_the_same_weights_needs_a_new_phase(
    registry: SqlAlchemyRepository,
) -> None:
    before = _running(registry)
    reordered = list(reversed(CONTROL_B))
    renamed = [CONTROL_B[0], {"key": "treatment", "weight": 0.5}]
    for edit in (_exp(variants=reordered, control="control"), _exp(variants=renamed, forced={})):
        with pytest.raises(StateError, match=r"cannot change .*variants.* without a new phase"):
            registry.update(edit)
        assert _snapshot(registry) == before
    record = registry.update(
        _exp(variants=reordered, control="control"), new_phase=True, reason="b first"
    )
    assert record.phase is not None
    assert record.phase.number == 2
    assert list(record.phase.weights.items()) == [("b", 0.5), ("control", 0.5)]


def test_the_same_slices_spelt_differently_stay_in_the_phase(
    registry: SqlAlchemyRepository,
) -> None:
    _running(registry)
    same = _exp(
        salt="exp",
        control="control",
        namespace=None,
        name="renamed",
        hypothesis="clearer words",
        kill_switch=True,
        variants=[{**CONTROL_B[0], "description": "as today"}, CONTROL_B[1]],
    )
    record = registry.update(same)
    assert record.phase is not None
    assert record.phase.number == 1
    assert "units_moved" not in registry.audit("exp")[-1].details


_KEYS = st.permutations(["control", "b", "c"]).map(lambda ks: ks[: 2 + (ks[0] == "c")])
_WEIGHTS = {2: [(0.5, 0.5), (0.2, 0.8)], 3: [(0.2, 0.3, 0.5), (1 / 3, 1 / 3, 1 / 3)]}


@st.composite
def _specs(draw: st.DrawFn) -> Experiment:
    keys = draw(_KEYS)
    weights = draw(st.sampled_from(_WEIGHTS[len(keys)]))
    ns_salt = draw(st.sampled_from([None, "namespace:search", "other"]))
    return Experiment.model_validate(
        {
            "key": "exp",
            "variants": [{"key": k, "weight": w} for k, w in zip(keys, weights, strict=True)],
            "salt": draw(st.sampled_from([None, "exp", "fresh"])),
            "hash_version": draw(st.sampled_from([1, 2])),
            "namespace": {"name": "search", "range": [0, 0.7], "salt": ns_salt},
        }
    )


UNITS = [f"user-{i}" for i in range(400)]


@given(_specs(), _specs())
def test_an_edit_that_moves_any_unit_is_a_randomization_change(
    old: Experiment, new: Experiment
) -> None:
    """The assigner is the oracle: if one unit of 400 changes variant, the registry sees it."""
    before = Assigner(old).assign_batch(UNITS).variant_array().tolist()
    after = Assigner(new).assign_batch(UNITS).variant_array().tolist()
    if before != after:
        assert randomization(old) != randomization(new)
    if randomization(old) == randomization(new):
        assert before == after


# -- the analysis plan -------------------------------------------------------------------------

PLAN_EDITS: list[tuple[dict[str, Any], str]] = [
    ({"primary_metric": "revenue", "secondary_metrics": ["converted"]}, "primary_metric"),
    ({"metrics": [{**METRICS[0], "window": {"end_hours": 24}}, *METRICS[1:]]}, "metrics.converted"),
    ({"metrics": [*METRICS, {"name": "clicks", "event": "click"}]}, "metrics.clicks"),
    ({"analysis": {"alpha": 0.1}}, "analysis.alpha"),
    ({"analysis": {"correction": "bh"}}, "analysis.correction"),
    ({"control": "b"}, "control"),
    ({"secondary_metrics": []}, "secondary_metrics"),
    ({"guardrails": []}, "guardrails"),
    ({"forced": {"qa-1": "control"}}, "forced"),
    ({"exclude": ["bot-1", "bot-2"]}, "exclude"),
]


@pytest.mark.parametrize(("edit", "field"), PLAN_EDITS, ids=[f for _, f in PLAN_EDITS])
def test_the_analysis_plan_is_frozen_once_started(
    registry: SqlAlchemyRepository, edit: dict[str, Any], field: str
) -> None:
    before = _running(registry)
    refused = rf"cannot change (.*, )?{field}(, .*)? of running .* new phase"
    with pytest.raises(StateError, match=refused):
        registry.update(_exp(**edit))
    assert _snapshot(registry) == before
    record = registry.update(_exp(**edit), actor="ana", new_phase=True, reason="pre-registered v2")
    assert record.phase is not None
    assert (record.phase.number, record.phase.reason) == (2, "pre-registered v2")
    assert record.experiment == _exp(**edit)


@pytest.mark.parametrize(("edit", "field"), PLAN_EDITS[:4], ids=[f for _, f in PLAN_EDITS[:4]])
def test_a_draft_plan_may_change(
    registry: SqlAlchemyRepository, edit: dict[str, Any], field: str
) -> None:
    registry.create(_exp())
    assert registry.update(_exp(**edit)).experiment == _exp(**edit)
    assert registry.phases("exp") == []


def test_override_edits_are_audited_with_the_units_they_move(
    registry: SqlAlchemyRepository,
) -> None:
    _running(registry)
    edit = _exp(forced={"qa-1": "control", "qa-2": "b"}, exclude=["bot-2", "bot-3"])
    registry.update(edit, actor="ana", new_phase=True, reason="QA accounts")
    entry = registry.audit("exp")[-1]
    assert entry.details["units_moved"] == {"forced": 2, "exclude": 3}
    assert entry.details["phase"] == {"number": 2, "reason": "QA accounts"}


def test_units_moved_counts_each_changed_override_once() -> None:
    old = _exp(forced={"a": "b", "b": "control", "c": "b"}, exclude=["x", "y"])
    new = _exp(forced={"a": "b", "b": "b", "d": "control"}, exclude=["y", "z", "y"])
    # b changed variant, c un-forced, d newly forced; x back in, z newly out.
    assert units_moved(old, new) == {"forced": 3, "exclude": 2}
    assert units_moved(old, old) == {}


def test_metric_descriptions_and_the_metric_order_are_not_plan_changes() -> None:
    old = _exp()
    described = [{**METRICS[0], "description": "bought anything"}, *reversed(METRICS[1:])]
    assert analysis_plan(_exp(metrics=described)) == analysis_plan(old)
    assert analysis_plan(_exp(control="control")) == analysis_plan(old)
