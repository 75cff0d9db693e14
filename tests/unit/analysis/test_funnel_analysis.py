"""A funnel metric through the whole analysis: its effect, each step's conversion with an
interval in the result and the JSON, and a section in the report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from shipit.analysis import analyze
from shipit.report.markdown import render_markdown
from shipit.result.schema import from_json, to_json
from shipit.spec.experiment import Experiment
from shipit.spec.metric import MetricDef
from shipit.spec.plan import AnalysisPlan
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

T0 = pd.Timestamp("2024-05-01")
STEPS = ["view_item", "add_to_cart", "purchase"]


def _store(n: int = 2000, seed: int = 3) -> tuple[DuckDBEngine, pd.DataFrame]:
    """Units walk the funnel step by step, the treatment converting more at each step."""
    rng = np.random.default_rng(seed)
    units = np.array([f"u{i:05d}" for i in range(n)])
    variant = rng.choice(["control", "treatment"], n)
    start = T0 + pd.to_timedelta(rng.integers(0, 2 * 86400, n), "s")
    exposures = pd.DataFrame(
        {"experiment": "shop", "phase": 1, "unit_id": units, "variant": variant,
         "timestamp": start, "country": rng.choice(["fr", "de"], n)}
    )  # fmt: skip
    rows = []
    p = np.where(variant == "control", 0.5, 0.6)
    alive = np.ones(n, dtype=bool)
    t = start + pd.Timedelta(minutes=5)
    for step in STEPS:
        alive &= rng.random(n) < p
        for i in np.flatnonzero(alive):
            rows.append((units[i], step, t[i]))
        t = t + pd.to_timedelta(rng.integers(60, 3600, n), "s")
    events = pd.DataFrame(rows, columns=["unit_id", "event", "timestamp"]).assign(value=1.0)
    engine = DuckDBEngine(":memory:")
    load(engine, "exposures", exposures)
    load(engine, "events", events)
    return engine, exposures


def test_funnel_analysis_reports_each_step() -> None:
    engine, exposures = _store()
    funnel = MetricDef(name="checkout_funnel", funnel=STEPS, window={"end_hours": 72})
    exp = Experiment(
        key="shop",
        variants=[{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
        metrics=[funnel],
        primary_metric="checkout_funnel",
        analysis=AnalysisPlan(segments=("country",), cuped=False),
    )
    a = analyze(exp, engine, phase=1)
    effect = a.effect("checkout_funnel", "treatment")
    assert effect is not None
    assert effect.kind == "funnel"
    assert effect.raw.p_value is not None
    assert effect.raw.p_value < 0.01
    steps = [s for s in a.funnel_steps if s.variant == "control"]
    assert [s.event for s in steps] == STEPS
    assert [s.step for s in steps] == [1, 2, 3]
    units = int((exposures["variant"] == "control").sum())
    assert all(s.units == units for s in steps)
    prev = units
    for s in steps:
        lo, hi = proportion_confint(s.reached, prev, alpha=a.alpha, method="wilson")
        assert s.conversion == s.reached / prev
        assert abs(s.conversion_ci_low - lo) < 1e-12  # type: ignore[operator]
        assert abs(s.conversion_ci_high - hi) < 1e-12  # type: ignore[operator]
        assert s.rate == s.reached / units
        prev = s.reached
    assert effect.mean_control == steps[-1].rate
    assert any(s.metric == "checkout_funnel" for s in a.segments)
    assert any(d.metric == "checkout_funnel" for d in a.daily)
    text = to_json(a)
    assert from_json(text) == a
    assert len(json.loads(text)["funnel_steps"]) == 6
    md = render_markdown(a)
    assert "Funnel steps" in md
    assert "2. add_to_cart" in md
