"""analyze under each plan method, the spec→policy mapping, and bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from shipit.analysis import analyze, guardrail_policy, policy_from_spec
from shipit.analysis.effects import SPENDING
from shipit.cli.demo_run import run_demo
from shipit.errors import DataError
from shipit.sim import scenario
from shipit.sim.storage import experiment_for
from shipit.spec.experiment import Experiment
from shipit.spec.guardrail import Guardrail
from shipit.spec.plan import AnalysisPlan, BayesianPlan, SequentialPlan
from shipit.stats.gst import GstDesign
from shipit.store.duckdb import DuckDBEngine


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo("three-models", 6_000, tmp_path_factory.mktemp("plans"), seed=5).store


def _spec(plan: AnalysisPlan) -> Experiment:
    base = experiment_for(scenario("three-models").info())
    return base.model_copy(update={"analysis": plan})


def test_bayesian_plan_gives_posterior_probabilities(store: Path) -> None:
    plan = AnalysisPlan(method="bayesian", mde=0.02, bayesian=BayesianPlan(prob_threshold=0.9))
    engine = DuckDBEngine(store)
    a = analyze(_spec(plan), engine)
    assert a.method == "bayesian"
    for e in a.effects:
        assert e.prob_better is not None
        assert e.expected_loss is not None
        est = e.best
        assert est.rel_effect is not None
        assert est.rel_se is not None
        # Flat prior, Normal model: P(better) = Φ(±θ̂ / se) on the relative scale.
        z = est.rel_effect / est.rel_se
        expected = sps.norm.cdf(z if e.higher_is_better else -z)
        assert e.prob_better == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert policy_from_spec(_spec(plan)).prob_threshold == 0.9


def test_gst_plan_bounds_are_the_design_boundaries(store: Path) -> None:
    plan = AnalysisPlan(
        method="sequential", mde=0.02, sequential=SequentialPlan(kind="gst", horizon=10_000)
    )
    a = analyze(_spec(plan), DuckDBEngine(store))
    days = [d for d in a.daily if d.variant == a.daily[0].variant]
    assert len(days) > 3
    # Each day is a look at its information: the harmonic mean of the arms over the horizon.
    fractions = np.array(
        [2 * d.n_control * d.n_variant / (d.n_control + d.n_variant) / 10_000 for d in days]
    )
    keep = np.r_[True, np.diff(fractions) > 0] & (fractions > 0)
    bounds = GstDesign(spending="obf", alpha=0.05).bounds(fractions[keep], final=False)
    looks = [d for d, k in zip(days, keep, strict=True) if k]
    checked = 0
    for d, z in zip(looks, bounds.efficacy, strict=True):
        if d.estimate.rel_se is not None and np.isfinite(z):
            assert d.bound_high == pytest.approx(z * d.estimate.rel_se, rel=1e-9)
            checked += 1
    assert checked > 3
    for e in a.effects:
        assert e.sequential is not None
        assert e.sequential.crossed in {"upper", "lower", "none"}


def test_msprt_plan_gives_confidence_sequences_wider_than_the_interval(store: Path) -> None:
    plan = AnalysisPlan(method="sequential", mde=0.02, sequential=SequentialPlan(tau=0.01))
    a = analyze(_spec(plan), DuckDBEngine(store))
    for e in a.effects:
        assert e.sequential is not None
        lo, hi = e.sequential.lower, e.sequential.upper
        assert lo is not None
        assert hi is not None
        assert e.best.rel_ci_low is not None
        assert e.best.rel_ci_high is not None
        assert lo < e.best.rel_ci_low
        assert hi > e.best.rel_ci_high
    assert any(d.bound_low is not None for d in a.daily)


def test_spec_names_map_to_stats_names() -> None:
    assert SPENDING == {"obrien_fleming": "obf", "pocock": "pocock"}
    rel = guardrail_policy(Guardrail(metric="m", relative_margin=0.02))
    assert (rel.margin, rel.relative) == (0.02, True)
    ab = guardrail_policy(Guardrail(metric="m", margin=10.0))
    assert (ab.margin, ab.relative) == (10.0, False)
    spec = experiment_for(scenario("ecommerce").info())
    policy = policy_from_spec(spec)
    assert policy.primary == "ctr"
    assert [(g.metric, g.margin, g.relative) for g in policy.guardrails] == [
        ("page_load_ms", 10.0, False)
    ]


def test_an_experiment_without_exposures_is_a_data_error(store: Path) -> None:
    spec = _spec(AnalysisPlan()).model_copy(update={"key": "never-ran"})
    with pytest.raises(DataError, match="never-ran"):
        analyze(spec, DuckDBEngine(store))


def test_progress_is_told_each_step_in_order(store: Path) -> None:
    steps: list[str] = []
    spec = _spec(AnalysisPlan(mde=0.02, segments=("platform",)))
    analyze(spec, DuckDBEngine(store), progress=steps.append)
    assert steps == [
        "moments overall and by platform",
        "moments by day",
        "statistics, checks and verdict",
    ]
