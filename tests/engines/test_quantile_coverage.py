"""Quantile intervals cover the true difference: 200 seeded experiments in one DuckDB store,
one segment each, with units that emit several correlated events (a unit random effect).

The companion check computes the naive interval that treats events as independent on the
same data: its coverage falls well short, so the clustered test can fail.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from shipit.metrics.kinds import kind_of
from shipit.metrics.run import compute_moments
from shipit.metrics.summary import GroupKey
from shipit.spec.metric import MetricDef
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

REPS, UNITS = 200, 200  # experiments, units per variant in each
LIFT = 1.2  # the treatment multiplies every value
SD_UNIT, SD_EVENT = 0.8, 0.5  # log-scale unit effect and event noise
Z95 = NormalDist().inv_cdf(0.975)
T0 = pd.Timestamp("2024-03-01")


def _store(seed: int, *, events_per_unit: int, p_active: float) -> tuple[DuckDBEngine, dict]:
    """REPS experiments as segments ``rep`` of one experiment; log values are
    b_unit + e_event (+ log LIFT for treatment); a unit is active with ``p_active``."""
    rng = np.random.default_rng(seed)
    units = REPS * 2 * UNITS
    rep = np.repeat(np.arange(REPS), 2 * UNITS)
    treated = np.tile(np.repeat([False, True], UNITS), REPS)
    unit_ids = np.array([f"u{i}" for i in range(units)])
    b = rng.normal(0.0, SD_UNIT, units)
    k = (1 + rng.poisson(events_per_unit - 1, units)) * (rng.random(units) < p_active)
    owner = np.repeat(np.arange(units), k)
    log_x = b[owner] + rng.normal(0.0, SD_EVENT, owner.size) + np.log(LIFT) * treated[owner]
    exposures = pd.DataFrame(
        {
            "experiment": "sim",
            "phase": 1,
            "unit_id": unit_ids,
            "variant": np.where(treated, "treatment", "control"),
            "timestamp": T0,
            "rep": [f"r{r:03d}" for r in rep],
        }
    )
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(owner.size)],
            "unit_id": unit_ids[owner],
            "event": "page",
            "timestamp": T0 + pd.Timedelta(hours=1),
            "value": np.exp(log_x),
        }
    )
    engine = DuckDBEngine(":memory:")
    load(engine, "exposures", exposures)
    load(engine, "events", events)
    raw = {"x": np.exp(log_x), "group": rep[owner] * 2 + treated[owner]}
    return engine, raw


def _intervals(engine: DuckDBEngine, metric: MetricDef) -> tuple[np.ndarray, np.ndarray]:
    """Per experiment the 95% interval of the absolute and of the relative difference."""
    mm = compute_moments(engine, "sim", 1, ["control", "treatment"], [metric], by="rep")
    kind = kind_of(metric)
    c, v = kind.pair(
        mm[metric.name],
        mm.rows([GroupKey("control", segment=r) for r in mm.segments]),
        mm.rows([GroupKey("treatment", segment=r) for r in mm.segments]),
    )
    r = kind.compare(c, v, alpha=0.05, alternative="two-sided", cuped=True).raw
    assert len(r) == REPS
    assert (r.status == "ok").all()
    return np.column_stack([r.abs_ci_low, r.abs_ci_high]), np.column_stack(
        [r.rel_ci_low, r.rel_ci_high]
    )


def _covers(ci: np.ndarray, truth: float) -> float:
    return float(np.mean((ci[:, 0] <= truth) & (truth <= ci[:, 1])))


def _naive_coverage(raw: dict, q: float, truth: float) -> float:
    """Coverage of the interval that takes every event as an independent observation."""
    est = np.empty((REPS, 2))
    se = np.empty((REPS, 2))
    for g in range(2 * REPS):
        x = raw["x"][raw["group"] == g]
        sigma = np.sqrt(q * (1 - q) / x.size)
        lo, hi = np.quantile(x, np.clip([q - Z95 * sigma, q + Z95 * sigma], 0, 1))
        est[g // 2, g % 2] = np.quantile(x, q)
        se[g // 2, g % 2] = (hi - lo) / (2 * Z95)
    diff = est[:, 1] - est[:, 0]
    half = Z95 * np.hypot(se[:, 0], se[:, 1])
    return float(np.mean(np.abs(diff - truth) <= half))


@pytest.fixture(scope="module")
def clustered() -> tuple[DuckDBEngine, dict]:
    return _store(13, events_per_unit=5, p_active=1.0)


def test_event_quantile_interval_covers_under_clustering(
    clustered: tuple[DuckDBEngine, dict],
) -> None:
    engine, raw = clustered
    q = 0.9
    # Events per unit are independent of the unit effect: every event's log value is
    # N(0, SD_UNIT² + SD_EVENT²), so the event quantile is closed form.
    control = float(np.exp(NormalDist().inv_cdf(q) * np.hypot(SD_UNIT, SD_EVENT)))
    truth = control * (LIFT - 1.0)
    absolute, relative = _intervals(engine, MetricDef(name="p90", event="page", quantile=q))
    assert _covers(absolute, truth) >= 0.93
    assert _covers(relative, LIFT - 1.0) >= 0.93
    # The same intervals are not needlessly wide: coverage stays below 99%.
    assert _covers(absolute, truth) <= 0.99
    # Ignoring the clustering (events as iid) under-covers clearly.
    assert _naive_coverage(raw, q, truth) < 0.85


def test_unit_quantile_interval_covers_with_zeros() -> None:
    """``quantile_of: units``: one event per active unit, inactive units count as 0."""
    engine, _ = _store(29, events_per_unit=1, p_active=0.8)
    q = 0.5
    # P(Y ≤ y) = 0.2 + 0.8·Φ(log y / sd) for y > 0 (sd of b + e).
    control = float(np.exp(NormalDist().inv_cdf((q - 0.2) / 0.8) * np.hypot(SD_UNIT, SD_EVENT)))
    metric = MetricDef(name="median", event="page", quantile=q, quantile_of="units")
    absolute, relative = _intervals(engine, metric)
    assert _covers(absolute, control * (LIFT - 1.0)) >= 0.93
    assert _covers(relative, LIFT - 1.0) >= 0.93
