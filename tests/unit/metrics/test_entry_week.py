"""Entry-cohort effects: the virtual segment ``entry_week`` (week of each unit's first
exposure) against pandas on the raw rows of a seeded simulation whose effect fades by cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipit.analysis import analyze
from shipit.spec import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

WEEKS = ["2026-11-02", "2026-11-09", "2026-11-16"]  # Mondays
LIFT = [0.30, 0.10, 0.0]  # the true relative effect of each entry cohort


def _data(n: int = 6000, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    cohort = rng.integers(0, 3, n)
    treated = rng.random(n) < 0.5
    first = pd.to_datetime(np.array(WEEKS)[cohort]) + pd.to_timedelta(
        rng.uniform(0, 7 * 24, n), unit="h"
    )
    units = [f"u{i}" for i in range(n)]
    exposures = pd.DataFrame(
        {
            "experiment": "cohorts",
            "phase": 1,
            "unit_id": units,
            "variant": np.where(treated, "b", "control"),
            "timestamp": first,
        }
    )
    # A second exposure a week later must not move the unit to another cohort.
    again = exposures.assign(timestamp=exposures["timestamp"] + pd.Timedelta(days=8))
    lift = np.array(LIFT)[cohort] * treated
    value = rng.gamma(2.0, 5.0, n) * (1 + lift)
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "unit_id": units,
            "event": "purchase",
            "timestamp": first + pd.Timedelta(hours=1),
            "value": value,
        }
    )
    return pd.concat([exposures, again]), events


def test_entry_week_effects_match_pandas_on_raw_rows() -> None:
    exposures, events = _data()
    engine = DuckDBEngine(":memory:")
    load(engine, "exposures", exposures)
    load(engine, "events", events)
    exp = Experiment.model_validate(
        {
            "key": "cohorts",
            "variants": [{"key": "control", "weight": 0.5}, {"key": "b", "weight": 0.5}],
            "metrics": [{"name": "revenue", "event": "purchase", "aggregation": "sum"}],
            "primary_metric": "revenue",
            "analysis": {"segments": ["entry_week"]},
        }
    )
    result = analyze(exp, engine)
    got = {s.segment: s for s in result.segments if s.dimension == "entry_week"}
    assert sorted(got) == WEEKS
    # pandas on the raw rows: first exposure's week, revenue per unit, mean ratio per cohort
    first = exposures.sort_values("timestamp").groupby("unit_id").first()
    week = first["timestamp"].dt.normalize() - pd.to_timedelta(
        first["timestamp"].dt.day_of_week, "D"
    )
    revenue = events.groupby("unit_id")["value"].sum().reindex(first.index, fill_value=0.0)
    frame = pd.DataFrame(
        {"week": week.dt.strftime("%Y-%m-%d"), "v": first["variant"], "y": revenue}
    )
    means = frame.groupby(["week", "v"])["y"].mean().unstack()
    for w in WEEKS:
        s = got[w]
        expected = means.loc[w, "b"] / means.loc[w, "control"] - 1
        assert s.estimate.rel_effect == pytest.approx(expected, rel=1e-9)
        assert s.n_control + s.n_variant == int((frame["week"] == w).sum())
    # and the known truth: the first cohort's lift is large, the last one's is nil
    assert got[WEEKS[0]].estimate.rel_ci_low > 0.15
    assert got[WEEKS[2]].estimate.rel_ci_low < 0 < got[WEEKS[2]].estimate.rel_ci_high
