"""A served bandit's analysis for report and dashboard tests: ``examples/bandit.yaml``
run for four hourly Thompson periods on seeded conversions, analysed from DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from shipit.analysis.pipeline import analyze
from shipit.bandits.allocation import next_weights
from shipit.registry.bandits import BanditPeriod
from shipit.result.model import Analysis
from shipit.spec import load_experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

SPEC = Path(__file__).resolve().parents[1] / "examples" / "bandit.yaml"
RATES = (0.08, 0.10, 0.13)  # current, bold, short
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def bandit_analysis(periods: int = 4, units: int = 1_500, seed: int = 7) -> Analysis:
    """The analysis of a bandit served ``periods`` hours with ``units`` entering each."""
    exp = load_experiment(SPEC)
    assert exp.bandit is not None
    variants = list(exp.variant_keys)
    rng = np.random.default_rng(seed)
    served = [BanditPeriod(0, T0, dict(zip(variants, exp.weights, strict=True)), "start")]
    n, s = np.zeros(len(variants)), np.zeros(len(variants))
    ids: list[str] = []
    arms: list[str] = []
    times: list[datetime] = []
    converted: list[str] = []
    for t in range(periods):
        w = np.array([served[t].weights[v] for v in variants])
        pick = rng.choice(len(variants), size=units, p=w / w.sum())
        hit = rng.random(units) < np.asarray(RATES)[pick]
        for i in range(units):
            uid = f"u{t}-{i}"
            ids.append(uid)
            arms.append(variants[pick[i]])
            times.append(T0 + timedelta(hours=t, seconds=2 * i + 1))
            if hit[i]:
                converted.append(uid)
        n += np.bincount(pick, minlength=len(variants))
        s += np.bincount(pick, weights=hit, minlength=len(variants))
        if t + 1 < periods:
            at = T0 + timedelta(hours=t + 1)
            nxt = next_weights(exp.bandit, variants, n, s, s, binary=True, period=t + 1, at=at)
            served.append(BanditPeriod(t + 1, at, nxt.weights, "update"))
    engine = DuckDBEngine()
    m = len(ids)
    exposures = {"experiment": [exp.key] * m, "phase": [1] * m, "unit_id": ids,
                 "variant": arms, "timestamp": times}  # fmt: skip
    load(engine, "exposures", pa.table(exposures))
    at = dict(zip(ids, times, strict=True))
    events = {"unit_id": converted, "event": ["signup"] * len(converted),
              "value": [1.0] * len(converted),
              "timestamp": [at[u] + timedelta(seconds=1) for u in converted]}  # fmt: skip
    load(engine, "events", pa.table(events))
    return analyze(exp, engine, bandit_periods=served)
