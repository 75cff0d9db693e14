"""The bandit update from a real DuckDB store: per-period reward moments against a numpy
oracle (each unit counted once, in its entry period, with its first variant), the next
weights, the schedule, and the monitor opening the period of a due bandit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from shipit.analysis.bandit_moments import period_moments
from shipit.bandits.allocation import next_weights
from shipit.errors import StateError
from shipit.operate.bandit import due_bandits, update_bandit
from shipit.operate.monitor import Monitor
from shipit.registry import SqlAlchemyRepository
from shipit.registry.bandits import BanditPeriods
from shipit.spec import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

SPEC = {
    "key": "bandit",
    "type": "bandit",
    "bandit": {"reward": "revenue", "update_every": "1h", "min_share": 0.1},
    "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
    "metrics": [{"name": "revenue", "event": "buy", "aggregation": "sum"}],
    "monitoring": {"every": "1w"},
}


def _exposures(engine: DuckDBEngine, rows: list[tuple[str, str, datetime]]) -> None:
    units, variants, times = zip(*rows, strict=True)
    n = len(rows)
    table = {"experiment": ["bandit"] * n, "phase": [1] * n, "unit_id": list(units),
             "variant": list(variants), "timestamp": list(times)}  # fmt: skip
    load(engine, "exposures", pa.table(table))


def _events(engine: DuckDBEngine, rows: list[tuple[str, float, datetime]]) -> None:
    units, values, times = zip(*rows, strict=True)
    table = {"unit_id": list(units), "event": ["buy"] * len(rows), "value": list(values),
             "timestamp": list(times)}  # fmt: skip
    load(engine, "events", pa.table(table))


def test_period_moments_match_a_numpy_oracle() -> None:
    exp = Experiment.model_validate(SPEC)
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    starts = [t0, t0 + timedelta(hours=1), t0 + timedelta(hours=2)]
    rng = np.random.default_rng(3)
    engine = DuckDBEngine()
    exposures, events, truth = [], [], {}
    for i in range(300):
        period = i % 3
        variant = "ab"[rng.integers(2)]
        at = starts[period] + timedelta(minutes=int(rng.integers(1, 59)))
        exposures.append((f"u{i}", variant, at))
        truth[f"u{i}"] = (period, variant, 0.0)
        if i % 7 == 0 and period < 2:  # it comes back later and is served the other one
            exposures.append((f"u{i}", "ba"[variant == "b"], starts[2] + timedelta(minutes=5)))
        for _ in range(int(rng.integers(0, 3))):
            value = float(rng.gamma(2.0, 5.0))
            events.append((f"u{i}", value, at + timedelta(minutes=1)))
            p, v, total = truth[f"u{i}"]
            truth[f"u{i}"] = (p, v, total + value)
    _exposures(engine, exposures)
    _events(engine, events)
    weights = [{"a": 0.5, "b": 0.5}, {"a": 0.2, "b": 0.8}, {"a": 0.1, "b": 0.9}]
    pm = period_moments(exp, engine, starts, weights, phase=1)
    n, s, ss = np.zeros((3, 2)), np.zeros((3, 2)), np.zeros((3, 2))
    for period, variant, total in truth.values():
        k = "ab".index(variant)
        n[period, k] += 1
        s[period, k] += total
        ss[period, k] += total * total
    np.testing.assert_allclose(pm.n, n)
    np.testing.assert_allclose(pm.total, s, rtol=1e-9)
    np.testing.assert_allclose(pm.total_sq, ss, rtol=1e-9)
    np.testing.assert_allclose(pm.weights, [[0.5, 0.5], [0.2, 0.8], [0.1, 0.9]])
    assert engine.query("SELECT count(*) AS n FROM duckdb_views() WHERE NOT internal")[
        "n"
    ].to_pylist() == [0]  # the view is gone


def test_update_is_scheduled_recorded_and_run_by_the_monitor(
    registry: SqlAlchemyRepository,
) -> None:
    registry.create(Experiment.model_validate(SPEC))
    record = registry.start("bandit")
    assert record.phase is not None
    t0 = record.phase.started_at.replace(tzinfo=UTC)
    engine = DuckDBEngine()
    rows = [(f"u{i}", "ab"[i % 2], t0 + timedelta(minutes=1)) for i in range(200)]
    _exposures(engine, rows)
    # b earns 10 a unit, a 1: the next period serves b all but the floor
    _events(engine, [(u, 10.0 if v == "b" else 1.0, t) for u, v, t in rows])
    early = update_bandit(registry, engine, "bandit", now=t0 + timedelta(minutes=30))
    assert early.period is None  # update_every (1h) has not passed
    assert due_bandits(registry, t0 + timedelta(minutes=30)) == []
    assert due_bandits(registry, t0 + timedelta(hours=1)) == ["bandit"]
    monitor = Monitor(registry, lambda: engine, close_store=False)
    run = monitor.run_once(t0 + timedelta(hours=1, minutes=1))
    [update] = run.bandit_updates
    assert update.period is not None
    assert update.period.number == 1
    assert update.period.weights == pytest.approx({"a": 0.1, "b": 0.9}, abs=1e-6)
    assert update.period.summary["n"] == {"a": 100.0, "b": 100.0}
    assert update.period.summary["mean"] == pytest.approx({"a": 1.0, "b": 10.0})
    # the same computation by hand: pooled totals through the policy, seeded by the period
    again = next_weights(
        Experiment.model_validate(SPEC).bandit,  # type: ignore[arg-type]
        ["a", "b"], [100, 100], [100.0, 1000.0], [100.0, 10000.0],
        binary=False, period=1, at=t0,
    )  # fmt: skip
    assert again.weights == update.period.weights
    assert BanditPeriods(registry.engine).current(registry.get("bandit")) == again.weights
    assert monitor.run_once(t0 + timedelta(hours=1, minutes=2)).bandit_updates == ()
    registry.stop("bandit")
    with pytest.raises(StateError, match="only a running bandit updates"):
        update_bandit(registry, engine, "bandit", force=True)
