"""Switchback from the spec: a simulated marketplace with a known effect on the order rate
and a carry-over into each interval's first minutes; the block analysis with the burn-in
left out recovers the effect."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from shipit.analysis.switchback import analyze_switchback
from shipit.assign.spec_designs import assign_design, switchback_schedule
from shipit.spec.experiment import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

START = datetime(2024, 5, 1)
END = START + timedelta(days=2)
REGIONS = [f"r{i}" for i in range(6)]
RATE = 40.0  # orders per hour per region under control
LIFT = 0.25  # the treatment's relative lift of the order rate
HOURS, BURN = 2.0, 30.0


def _experiment(seed: int) -> Experiment:
    return Experiment.model_validate(
        {"key": "dispatch", "salt": f"dispatch-{seed}",
         "variants": [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
         "design": {"kind": "switchback", "interval_hours": HOURS, "burn_in_minutes": BURN,
                    "by": "region", "start": START.isoformat()},
         "metrics": [{"name": "orders", "event": "order", "aggregation": "count"}],
         "primary_metric": "orders"}
    )  # fmt: skip


def _events(exp: Experiment, seed: int) -> pd.DataFrame:
    """Orders by region and minute; during an interval's first ``BURN`` minutes the rate
    still follows the previous interval's variant (carry-over)."""
    rng = np.random.default_rng(seed)
    schedule = switchback_schedule(exp, REGIONS, START, END)
    rows = []
    minutes = int((END - START).total_seconds() // 60)
    per_slice = int(HOURS * 60)
    for r, region in enumerate(REGIONS):
        base = RATE * rng.uniform(0.7, 1.3) / 60
        k = np.arange(minutes) // per_slice
        in_burn = np.arange(minutes) % per_slice < BURN
        arm = schedule.index[r, k]
        prev = np.where(k > 0, schedule.index[r, np.maximum(k - 1, 0)], arm)
        effective = np.where(in_burn, prev, arm)
        counts = rng.poisson(base * (1 + LIFT * (effective == 1)))
        for minute in np.repeat(np.arange(minutes), counts):
            rows.append((region, START + timedelta(minutes=int(minute), seconds=30)))
    df = pd.DataFrame(rows, columns=["region", "timestamp"])
    return df.assign(unit_id=[f"o{i}" for i in range(len(df))], event="order", value=1.0)


def test_switchback_assignment_follows_the_schedule() -> None:
    exp = _experiment(0)
    times = [START + timedelta(hours=h) for h in (0.5, 1.5, 2.5)]
    got = assign_design(exp, ["a", "b", "c"], {"region": ["r0"] * 3}, times)
    schedule = switchback_schedule(exp, ["r0"], START, END)
    assert got[0] == got[1] == schedule.variants[schedule.index[0, 0]]
    assert got[2] == schedule.variants[schedule.index[0, 1]]


def test_switchback_block_analysis_recovers_the_lift() -> None:
    covered, estimates = 0, []
    seeds = range(12)
    for seed in seeds:
        exp = _experiment(seed)
        engine = DuckDBEngine(":memory:")
        load(engine, "events", _events(exp, seed))
        (effect,) = analyze_switchback(engine, exp, END, regions=REGIONS)
        assert effect.blocks_control + effect.blocks_variant == len(REGIONS) * 24
        r = effect.result
        covered += int(r.rel_ci_low[0] <= LIFT <= r.rel_ci_high[0])
        estimates.append(r.rel_effect[0])
    assert covered >= 10
    assert np.mean(estimates) == pytest.approx(LIFT, abs=0.04)


def test_online_switchback_equals_the_batch_schedule() -> None:
    from shipit.assign.spec_designs import assign_online

    exp = _experiment(3)
    times = [START + timedelta(minutes=37 * i) for i in range(80)]
    batch = assign_design(exp, [f"u{i}" for i in range(80)], {"region": ["r2"] * 80}, times)
    online = [assign_online(exp, f"u{i}", {"region": "r2"}, t) for i, t in enumerate(times)]
    assert list(batch) == online
