"""Designs served one unit at a time and in batches by the ``Assigner`` (API, SDK): equal to
the library's design assignment, with the usual checks (forced units) still first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from shipit.assign.assigner import Assigner, Reason
from shipit.assign.spec_designs import assign_design, switchback_schedule
from shipit.errors import InputError
from shipit.spec.experiment import Experiment

VARIANTS = [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}]


def _spec(design: dict[str, object], **extra: object) -> Experiment:
    return Experiment.model_validate(
        {"key": "served", "variants": VARIANTS, "design": design,
         "metrics": [{"name": "m", "event": "e", "aggregation": "count"}], **extra}
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["cluster", "ego_cluster"])
def test_cluster_designs_are_served_by_their_cluster(kind: str) -> None:
    design = {"kind": "cluster", "by": "city"} if kind == "cluster" else {
        "kind": "ego_cluster", "edges": "engine:edges", "by": "city"}  # fmt: skip
    exp = _spec(design, forced={"qa-1": "treatment"})
    assigner = Assigner(exp)
    rng = np.random.default_rng(0)
    units = [f"u{i}" for i in range(400)]
    city = [f"c{k}" for k in rng.integers(0, 30, 400)]
    expected = list(assign_design(exp, units, {"city": city}))
    one = [assigner.assign(u, {"city": c}).variant for u, c in zip(units, city, strict=True)]
    assert one == expected
    batch = assigner.assign_batch(np.array(units, dtype=object), {"city": city})
    assert batch.variant_array().tolist() == expected
    assert len(set(expected)) == 2
    # Forced units keep their variant, alone and in a batch.
    assert assigner.assign("qa-1", {"city": "c0"}).reason == Reason.FORCED
    got = assigner.assign_batch(np.array(["qa-1", "u0"], dtype=object), {"city": ["c0", "c0"]})
    assert got[0].variant == "treatment"
    assert got[0].reason == Reason.FORCED
    with pytest.raises(InputError, match="'city'"):
        assigner.assign("u1", {})
    with pytest.raises(InputError, match="'city'"):
        assigner.assign_batch(np.array(["u1"], dtype=object), None)


def test_a_switchback_is_served_its_current_variant() -> None:
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=5)
    exp = _spec({"kind": "switchback", "interval_hours": 1, "by": "region",
                 "start": start.isoformat()})  # fmt: skip
    assigner = Assigner(exp)
    regions = [f"r{i}" for i in range(8)]
    now = datetime.now(UTC).replace(tzinfo=None)
    schedule = switchback_schedule(exp, regions, start, now + timedelta(hours=1))
    current, _ = schedule.lookup(regions, [now] * len(regions))
    served = [assigner.assign(f"x{r}", {"region": r}).variant for r in regions]
    batch = assigner.assign_batch(np.array(regions, dtype=object), {"region": regions})
    # Unless an interval ended between the lookups (start + k hours), all three agree.
    after = datetime.now(UTC).replace(tzinfo=None)
    if (now - start) // timedelta(hours=1) == (after - start) // timedelta(hours=1):
        assert served == list(current)
        assert batch.variant_array().tolist() == list(current)
