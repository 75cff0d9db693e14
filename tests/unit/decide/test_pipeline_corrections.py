"""The plan's correction through ``analyze`` on a real store: one family, honoured everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from statsmodels.stats.multitest import multipletests

from shipit.analysis import analyze
from shipit.cli.demo_run import run_demo
from shipit.sim import scenario
from shipit.sim.storage import experiment_for
from shipit.spec.experiment import Experiment
from shipit.spec.plan import AnalysisPlan, SequentialPlan
from shipit.stats.sequential import msprt
from shipit.store.duckdb import DuckDBEngine


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo("three-models", 4_000, tmp_path_factory.mktemp("corr"), seed=11).store


def _spec(plan: AnalysisPlan) -> Experiment:
    base = experiment_for(scenario("three-models").info())
    return base.model_copy(update={"analysis": plan, "secondary_metrics": ("revenue",)})


def _reference(p: list[float], correction: str) -> list[float]:
    if correction == "none":
        return p
    names = {
        "bh": "fdr_bh",
        "by": "fdr_by",
        "holm_sidak": "holm-sidak",
        "hochberg": "simes-hochberg",
    }
    return list(multipletests(p, method=names.get(correction, correction))[1])


@pytest.mark.parametrize(
    "correction",
    ["none", "bonferroni", "holm", "bh", "sidak", "holm_sidak", "hochberg", "hommel", "by"],
)
def test_analyze_corrects_primary_and_secondary_over_variants(store: Path, correction: str) -> None:
    plan = AnalysisPlan(mde=0.02, segments=("platform",), correction=correction)  # type: ignore[arg-type]
    a = analyze(_spec(plan), DuckDBEngine(store), daily=False)
    family = [e for e in a.effects if e.metric in ("ctr", "revenue")]
    assert len(family) == 6  # 2 metrics × 3 treatments
    p = [e.best.p_value for e in family]
    got = [e.best.p_value_adjusted for e in family]
    assert got == pytest.approx(_reference(p, correction), rel=1e-12)  # type: ignore[arg-type]
    # Guardrails are their own non-inferiority tests: not in the family.
    assert all(e.best.p_value_adjusted is None for e in a.effects if e.metric == "latency_ms")
    # Segments: every segment × variant of a dimension is one family (per metric: the
    # guardrails' segment rows, there for the segment-ship rule, are a family of their own).
    assert {s.metric for s in a.segments} == {"ctr", "revenue", "latency_ms"}
    segs = [s for s in a.segments if s.dimension == "platform" and s.metric == "ctr"]
    assert len({s.variant for s in segs}) == 3
    p = [s.estimate.p_value for s in segs]
    got = [s.estimate.p_value_adjusted for s in segs]
    assert got == pytest.approx(_reference(p, correction), rel=1e-12)  # type: ignore[arg-type]


@pytest.mark.parametrize(("correction", "k"), [("none", 1), ("holm", 3), ("bh", 3)])
def test_sequential_bounds_are_at_alpha_over_the_treatments(
    store: Path, correction: str, k: int
) -> None:
    """mSPRT confidence sequences at α/k per treatment (Bonferroni) unless the plan says none."""
    seq = SequentialPlan(tau=0.01)
    plan = AnalysisPlan(method="sequential", mde=0.02, sequential=seq, correction=correction)  # type: ignore[arg-type]
    a = analyze(_spec(plan), DuckDBEngine(store), daily=False)
    for e in a.effects:
        assert e.sequential is not None
        b = e.best
        ref = msprt(b.rel_effect, b.rel_se, tau2=0.01, alpha=0.05 / k)
        assert e.sequential.upper == pytest.approx(float(ref.ci_high), rel=1e-9)
