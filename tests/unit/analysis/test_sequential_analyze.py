"""Group-sequential ``analyze`` on real stores: the design's bounds look after look, the
registry's saved analyses as the looks taken, and one bound per treatment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipit.analysis import analyze, analyze_registered
from shipit.cli.demo_run import DemoResult
from shipit.registry import open_registry
from shipit.registry.analyses import AnalysisRepository
from shipit.result.model import Analysis, Effect
from shipit.result.schema import to_json
from shipit.spec.experiment import Experiment, Variant
from shipit.spec.metric import MetricDef
from shipit.spec.plan import AnalysisPlan, SequentialPlan
from shipit.stats.gst import GstDesign
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

KEY = "gst-looks"
HORIZON = 2_000  # units per variant at the last of two planned looks


def _spec() -> Experiment:
    return Experiment(
        key=KEY,
        variants=(Variant(key="control", weight=0.5), Variant(key="treatment", weight=0.5)),
        metrics=(MetricDef(name="converted", event="convert", aggregation="any"),),
        primary_metric="converted",
        analysis=AnalysisPlan(
            method="sequential",
            sequential=SequentialPlan(kind="gst", horizon=HORIZON, looks=2),
        ),
    )


def _add_units(
    engine: DuckDBEngine, start: int, stop: int, at: datetime, seed: int, phase: int = 0
) -> None:
    """Units start..stop-1 of each arm exposed after ``at``; 10% / 11% of them convert."""
    rng = np.random.default_rng(seed)
    rows = []
    for arm, p in (("control", 0.10), ("treatment", 0.11)):
        ids = [f"{arm}-{i}" for i in range(start, stop)]
        rows.append((ids, arm, rng.random(len(ids)) < p))
    stamps = [at + timedelta(seconds=1 + i) for i in range(stop - start)]
    exposures = pd.concat(
        pd.DataFrame(
            {"experiment": KEY, "phase": phase, "unit_id": ids, "variant": arm, "timestamp": stamps}
        )
        for ids, arm, _ in rows
    )
    events = pd.concat(
        pd.DataFrame(
            {
                "unit_id": np.array(ids)[hit],
                "event": "convert",
                "timestamp": np.array(stamps)[hit] + timedelta(minutes=5),
            }
        )
        for ids, _, hit in rows
    )
    load(engine, "exposures", exposures)
    load(engine, "events", events)


def _primary(a: Analysis) -> Effect:
    e = a.effect("converted", "treatment")
    assert e is not None
    assert e.sequential is not None
    return e


def _z_bound(e: Effect) -> float:
    assert e.sequential is not None
    assert e.sequential.upper is not None
    assert e.best.rel_se is not None
    return e.sequential.upper / e.best.rel_se


def test_analyze_at_the_two_planned_looks_gives_the_design_bounds(tmp_path: Path) -> None:
    engine = DuckDBEngine(tmp_path / "store.duckdb")
    at = datetime(2026, 3, 1, 9, 0)
    design = GstDesign(spending="obf").bounds([0.5, 1.0]).efficacy  # 2.797, 1.969
    _add_units(engine, 0, HORIZON // 2, at, seed=1)
    first = _primary(analyze(_spec(), engine))
    assert first.sequential is not None
    assert first.sequential.information_fraction == pytest.approx(0.5)
    assert _z_bound(first) == pytest.approx(design[0], rel=1e-9)
    _add_units(engine, HORIZON // 2, HORIZON, at + timedelta(days=1), seed=2)
    second = _primary(analyze(_spec(), engine))
    assert second.sequential is not None
    assert second.sequential.information_fraction == pytest.approx(1.0)
    assert _z_bound(second) == pytest.approx(design[1], rel=1e-9)
    assert design[1] > 1.965  # not the 1.960 of a single look
    z = second.sequential.statistic
    assert z is not None
    assert second.sequential.crossed == ("upper" if z >= design[1] else "none")
    engine.close()


def test_saved_analyses_of_the_phase_are_the_looks_taken(tmp_path: Path) -> None:
    repo = open_registry(f"sqlite:///{tmp_path / 'registry.db'}")
    engine = DuckDBEngine(tmp_path / "store.duckdb")
    try:
        saved = AnalysisRepository(repo.engine)
        repo.create(_spec(), actor="test")
        phase = repo.start(KEY, actor="test").phase
        assert phase is not None
        at = phase.started_at.astimezone(UTC).replace(tzinfo=None)
        _add_units(engine, 0, 600, at, seed=3, phase=phase.number)  # an unplanned look at 0.3
        early = analyze_registered(KEY, engine, repo)
        early_seq = _primary(early).sequential
        assert early_seq is not None
        assert early_seq.information_fraction == pytest.approx(0.3)
        saved.save(KEY, to_json(early), actor="test")
        _add_units(engine, 600, 1_000, at + timedelta(hours=1), seed=4, phase=phase.number)
        planned = _primary(analyze_registered(KEY, engine, repo))
        want = GstDesign(spending="obf").bounds([0.3, 0.5], final=False).efficacy[-1]
        assert _z_bound(planned) == pytest.approx(want, rel=1e-9)
        # Without the record, the plan's schedule: 0.5 is the first look.
        unrecorded = _primary(analyze_registered(KEY, engine, repo, recorded_looks=None))
        first = GstDesign(spending="obf").bounds([0.5], final=False).efficacy[0]
        assert _z_bound(unrecorded) == pytest.approx(first, rel=1e-9)
        assert want > first
        assert saved.history(KEY, since=phase.started_at + timedelta(days=1)) == []
    finally:
        engine.close()
        repo.close()


def test_three_treatments_each_get_a_bound_and_the_best_can_win(
    three_models_run: DemoResult,
) -> None:
    spec = three_models_run.experiment
    units = min(three_models_run.analysis.units.values())
    plan = spec.analysis.model_copy(
        update={
            "method": "sequential",
            "sequential": SequentialPlan(kind="gst", horizon=units, looks=4),
        }
    )
    exp = spec.model_copy(update={"analysis": plan})
    a = analyze(exp, DuckDBEngine(three_models_run.store))
    rows = [e for e in a.effects if e.metric == a.primary]
    assert len(rows) == 3
    for e in rows:
        assert e.sequential is not None
        assert e.sequential.upper is not None
        assert e.sequential.information_fraction == pytest.approx(1.0, abs=0.02)
    best = max(rows, key=lambda e: e.best.rel_effect or 0.0)
    assert best.variant == "hybrid"
    assert best.sequential is not None
    assert best.sequential.crossed == "upper"
    assert a.verdict.decision == "ship"
    assert a.verdict.variant == "hybrid"
    days = [d for d in a.daily if d.variant == "hybrid"]
    assert days
    assert all(d.bound_high is not None for d in days)
