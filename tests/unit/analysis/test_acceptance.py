"""Issue 7's acceptance: each scenario's verdict through the store, the moments and analyze."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipit.analysis.effects import pair_rows, row_stats
from shipit.cli.demo_run import DemoResult
from shipit.metrics.run import compute_moments
from shipit.metrics.summary import GroupKey
from shipit.sim import generate, scenario
from shipit.sim.storage import experiment_for
from shipit.store.duckdb import DuckDBEngine

REPS = 150
N_PER_REP = 4_000


def _replications_store() -> DuckDBEngine:
    """REPS seeded recommender replications in one store, each tagged by an exposure ``rep``."""
    exposures, events, units = [], [], []
    for r in range(REPS):
        d = generate("recommender", N_PER_REP, seed=1_000 + r)
        pre = f"r{r:03d}-"
        exposures.append(
            pd.DataFrame(
                {
                    "experiment": "recommender",
                    "unit_id": pre + d.exposures["unit_id"].astype(str),
                    "variant": d.exposures["variant"].astype(str),
                    "timestamp": d.exposures["ts"].dt.floor("us"),
                    "rep": f"{r:03d}",
                }
            )
        )
        events.append(
            pd.DataFrame(
                {
                    "unit_id": pre + d.events["unit_id"].astype(str),
                    "event": d.events["event"].astype(str),
                    "timestamp": d.events["ts"].dt.floor("us"),
                    "value": d.events["value"],
                }
            )
        )
        units.append(d.units.assign(unit_id=pre + d.units["unit_id"].astype(str)))
    engine = DuckDBEngine(":memory:")
    for table, parts in (("exposures", exposures), ("events", events), ("units", units)):
        # Fresh rows of known shape: a bulk insert instead of the validating loader.
        engine.con.register("frame", pd.concat(parts, ignore_index=True))
        engine.con.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
        engine.con.unregister("frame")
    return engine


@pytest.mark.slow
def test_cuped_interval_covers_the_truth_and_both_lifts_centre_on_it() -> None:
    """Over 150 seeded replications (one moments query, one vectorized CUPED call)."""
    info = scenario("recommender").info()
    exp = experiment_for(info)
    primary = exp.metric(info.primary)
    engine = _replications_store()
    mm = compute_moments(engine, exp.key, None, list(exp.variant_keys), [primary], by="rep")
    reps = [f"{r:03d}" for r in range(REPS)]
    c, v = pair_rows(
        mm,
        primary,
        [GroupKey("control", segment=s) for s in reps],
        [GroupKey("new_recommender", segment=s) for s in reps],
    )
    rs = row_stats(c, v, primary, exp.analysis, higher_is_better=True)
    assert rs.adjusted is not None
    truth = info.true_effects[info.primary]
    adj = rs.adjusted
    covered = np.mean((adj.rel_ci_low < truth) & (truth < adj.rel_ci_high))
    assert 0.90 <= covered <= 1.0, covered
    # The imbalance is chance: the raw lift scatters around the truth, CUPED much less.
    raw = np.asarray(rs.raw.rel_effect)
    assert abs(np.mean(raw) - truth) < 3 * np.std(raw) / np.sqrt(REPS)
    assert abs(np.mean(adj.rel_effect) - truth) < 0.01
    assert np.std(adj.rel_effect) < 0.5 * np.std(raw)


@pytest.mark.slow
def test_recommender_light_users_gain_more_and_guardrail_uncertainty_is_named(
    recommender_run: DemoResult,
) -> None:
    a = recommender_run.analysis
    seg = {
        s.segment: s.estimate.rel_effect
        for s in a.segments
        if s.dimension == "activity" and s.metric == "watch_time"
    }
    assert seg["light"] is not None
    assert seg["medium"] is not None
    assert seg["heavy"] is not None
    assert seg["light"] > seg["medium"]
    assert seg["light"] > seg["heavy"]
    v = a.verdict
    assert v.decision == "iterate"
    assert v.variant == "new_recommender"
    assert any("guardrail uncertain" in r and "sessions" in r for r in v.reasons), v.reasons
    primary = a.effect("watch_time", "new_recommender")
    assert primary is not None
    assert primary.adjusted is not None
    assert primary.raw.rel_effect is not None
    assert primary.raw.rel_effect > 0.09  # the default draw's chance imbalance
    lo, hi = primary.adjusted.rel_ci_low, primary.adjusted.rel_ci_high
    assert lo is not None
    assert hi is not None
    assert lo < 0.07 < hi
    checks = {t.name: t for t in a.trust}
    assert checks["srm"].status == "pass"
    assert checks["balance"].status == "warn"
    assert "pre_watch_time" in checks["balance"].message
    assert checks["novelty"].status == "warn"
    assert a.true_effects is not None
    assert a.true_effects["watch_time"] == 0.07


@pytest.mark.slow
def test_ecommerce_rolls_back_citing_page_load(ecommerce_run: DemoResult) -> None:
    a = ecommerce_run.analysis
    assert a.verdict.decision == "roll_back"
    reasons = a.verdict.reasons
    assert any("page_load_ms" in r and "+10 margin" in r for r in reasons), reasons
    load_ms = a.effect("page_load_ms", "ml_recs")
    assert load_ms is not None
    lo, hi = load_ms.raw.abs_ci_low, load_ms.raw.abs_ci_high
    assert lo is not None
    assert hi is not None
    assert lo < 20.0 < hi
    (light,) = [g for g in a.guardrails if g.metric == "page_load_ms"]
    assert light.light == "red"


@pytest.mark.slow
def test_three_models_ships_hybrid_with_collaborative_runner_up(
    three_models_run: DemoResult,
) -> None:
    v = three_models_run.analysis.verdict
    assert v.decision == "ship"
    assert v.variant == "hybrid"
    assert v.runner_up == "collaborative"
    assert [s.percent for s in v.rollout] == [1, 5, 25, 50, 100]
