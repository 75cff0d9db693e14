"""The design block of a spec: every example of docs/designs.md loads, dumps and loads back
unchanged, and a bad design is a SpecError naming the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shipit.errors import ShipitError
from shipit.spec.io import dump_experiment, loads_experiments

DOC = Path(__file__).resolve().parents[3] / "docs" / "designs.md"


def _blocks() -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)


def test_every_doc_example_loads_and_round_trips() -> None:
    kinds = []
    for block in _blocks():
        (exp,) = loads_experiments(block)
        assert exp.design is not None
        kinds.append(exp.design.kind)
        (again,) = loads_experiments(dump_experiment(exp))
        assert again == exp
    assert kinds == ["cluster", "switchback", "stratified", "blocked", "ego_cluster"]


@pytest.mark.parametrize(
    ("design", "message"),
    [
        ("{kind: cluster}", "design.cluster.by"),
        ("{kind: lottery}", "design"),
        ("{kind: stratified, by: []}", "design.stratified.by"),
        ("{kind: switchback, interval_hours: 1, burn_in_minutes: 60}", "burn_in_minutes"),
        ("{kind: ego_cluster}", "design.ego_cluster.edges"),
        ("{kind: ego_cluster, edges: g.csv, threshold: 0.4}", "design.ego_cluster.threshold"),
    ],
)
def test_bad_design_names_the_field(design: str, message: str) -> None:
    text = (
        f"key: x\nvariants: [{{key: a, weight: 0.5}}, {{key: b, weight: 0.5}}]\ndesign: {design}\n"
    )
    with pytest.raises(ShipitError) as err:
        loads_experiments(text)
    assert message in str(err.value)
