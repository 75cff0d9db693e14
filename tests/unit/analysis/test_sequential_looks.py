"""Group-sequential analysis: the looks counted, the bounds per variant and per day."""

from __future__ import annotations

import numpy as np
import pytest

from shipit.analysis.sequential import (
    cumulative_bounds,
    current_bounds,
    information_fraction,
    looks_taken,
    recorded_looks,
)
from shipit.errors import SpecError
from shipit.result.model import Effect, SequentialBounds
from shipit.spec.io import loads_experiments
from shipit.spec.plan import AnalysisPlan, SequentialPlan
from shipit.stats.gst import GstDesign
from shipit.stats.sequential import msprt

# Published Lan-DeMets O'Brien-Fleming-type bounds, K = 4 equal looks, two-sided 0.05
# (Jennison & Turnbull 2000, table 2.x; gsDesign / ldbounds give the same).
OBF4 = [4.3326, 2.9631, 2.3590, 2.0141]


def _plan(spending: str = "obrien_fleming", looks: int = 4, horizon: int = 8_000) -> AnalysisPlan:
    return AnalysisPlan(
        method="sequential",
        cuped=False,
        sequential=SequentialPlan(kind="gst", horizon=horizon, looks=looks, spending=spending),
    )


def test_the_looks_taken_follow_the_plan_then_the_record() -> None:
    seq = SequentialPlan(kind="gst", horizon=100, looks=4)
    assert looks_taken(0.25, seq).tolist() == [0.25]
    assert looks_taken(0.5, seq).tolist() == [0.25, 0.5]
    assert looks_taken(0.6, seq).tolist() == [0.25, 0.5, 0.6]  # an unplanned extra look
    assert looks_taken(1.0, seq).tolist() == [0.25, 0.5, 0.75, 1.0]
    assert looks_taken(1.3, seq).tolist() == [0.25, 0.5, 0.75, 1.3]  # past the horizon
    assert looks_taken(0.2504, seq).tolist() == [0.2504]  # the planned look, reached
    # Recorded analyses replace the schedule from the first of them on.
    assert looks_taken(0.75, seq, [0.3, 0.55]).tolist() == [0.25, 0.3, 0.55, 0.75]
    assert looks_taken(0.75, seq, [0.1, 0.75, 0.9]).tolist() == [0.1, 0.75]
    # Re-runs on the same data are one look; the schedule fills in before the first record.
    assert looks_taken(0.6, seq, [0.6, 0.6]).tolist() == [0.25, 0.5, 0.6]


def test_bounds_at_the_planned_looks_are_the_published_design() -> None:
    plan = _plan()
    n = np.array([2_000.0, 4_000.0, 6_000.0, 8_000.0])
    b = current_bounds(np.zeros(4), np.ones(4), n, n, plan)
    assert b.high.tolist() == pytest.approx(OBF4, abs=2e-4)
    assert b.fraction.tolist() == pytest.approx([0.25, 0.5, 0.75, 1.0])
    # An extra look at 0.6 spends alpha(0.6) − alpha(0.5) beyond the two planned looks.
    extra = current_bounds([0.0], [1.0], [4_800.0], [4_800.0], plan)
    want = GstDesign(spending="obf").bounds([0.25, 0.5, 0.6], final=False).efficacy[-1]
    assert extra.high[0] == pytest.approx(want, rel=1e-12)
    pocock = current_bounds([0.0], [1.0], [8_000.0], [8_000.0], _plan("pocock", looks=5))
    assert pocock.high[0] == pytest.approx(
        GstDesign(spending="pocock").bounds([0.2, 0.4, 0.6, 0.8, 1.0]).efficacy[-1], rel=1e-12
    )


def test_every_variant_gets_its_own_bound_at_its_own_fraction() -> None:
    plan = _plan()
    rel, se = np.array([0.05, 0.02, -0.01]), np.array([0.01, 0.02, 0.03])
    nc = np.full(3, 4_000.0)
    nv = np.array([4_000.0, 6_000.0, 2_000.0])
    b = current_bounds(rel, se, nc, nv, plan)
    assert np.all(np.isfinite(b.high))
    for i in range(3):
        one = current_bounds(rel[i : i + 1], se[i : i + 1], nc[i : i + 1], nv[i : i + 1], plan)
        assert b.high[i] == one.high[0]
        assert b.fraction[i] == pytest.approx(2 * nc[i] * nv[i] / (nc[i] + nv[i]) / 8_000)
    assert b.crossed == ["upper", "none", "none"]
    # The mSPRT interval of each variant is its own, whatever the others show.
    msp = AnalysisPlan(method="sequential", sequential=SequentialPlan(tau=0.01))
    m = current_bounds(rel, se, nc, nv, msp)
    want = msprt(rel, se, tau2=0.01, alpha=0.05)
    assert m.low.tolist() == pytest.approx(np.asarray(want.ci_low).tolist(), rel=1e-12)
    assert m.crossed[0] == "upper"
    assert np.isnan(m.fraction).all()  # no horizon: no fraction to report


def test_past_the_horizon_the_rest_of_alpha_is_spent_once() -> None:
    plan = _plan()
    n = np.array([10_400.0])
    first = current_bounds([0.0], [1.0], n, n, plan)
    want = GstDesign(spending="obf").bounds([0.25, 0.5, 0.75, 1.3], final=False).efficacy[-1]
    assert first.high[0] == pytest.approx(want, rel=1e-12)
    # Once a recorded analysis spent it all, nothing is left for a later look.
    again = current_bounds([0.5], [0.01], n, n, plan, recorded=[[0.25, 0.5, 0.75, 1.0]])
    assert np.isinf(again.high[0])
    assert again.crossed == ["none"]


def test_daily_looks_are_successive_looks_of_one_comparison() -> None:
    plan = _plan()
    nc = np.array([0.0, 800.0, 1_600.0, 1_600.0, 2_400.0])
    nv = np.array([0.0, 800.0, 1_600.0, 1_600.0, 2_400.0])
    b = cumulative_bounds(np.zeros(5), np.ones(5), nc, nv, plan)
    design = GstDesign(spending="obf").bounds([0.1, 0.2, 0.3], final=False).efficacy
    assert np.isnan(b.high[0])  # no data yet
    assert b.high[1:].tolist() == pytest.approx([design[0], design[1], design[1], design[2]])


def test_a_gst_plan_needs_a_horizon() -> None:
    text = """
key: gst-no-horizon
variants: [{key: a, weight: 0.5}, {key: b, weight: 0.5}]
metrics: [{name: m, event: e}]
analysis:
  method: sequential
  sequential: {kind: gst, looks: 4}
"""
    with pytest.raises(SpecError, match=r"analysis\.sequential\.horizon: required"):
        loads_experiments(text, "spec.yaml")
    assert loads_experiments(text.replace("looks: 4", "looks: 4, horizon: 9"))
    with pytest.raises(SpecError, match=r"sequential\.horizon"):
        information_fraction([1.0], [1.0], SequentialPlan(kind="gst"))


def test_recorded_looks_are_read_from_saved_analyses() -> None:
    def body(fractions: dict[str, float | None]) -> str:
        effects = [
            Effect(
                metric=metric,
                variant=v,
                control="a",
                sequential=SequentialBounds(information_fraction=f),
            )
            for v, f in fractions.items()
            for metric in ("m", "other")
        ]
        from shipit.result.model import Analysis, Verdict

        return Analysis(
            experiment="e",
            control="a",
            variants=("a", *fractions),
            primary="m",
            effects=tuple(effects),
            verdict=Verdict(decision="iterate"),
        ).model_dump_json()

    got = recorded_looks([body({"b": 0.25, "c": 0.2}), "not json", body({"b": 0.5, "c": None})])
    assert got == {"b": [0.25, 0.5], "c": [0.2]}
