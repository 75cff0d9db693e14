"""Poisson bootstrap intervals from the engine: coverage of a known truth, reproducibility.

REPS seeded experiments are the segments ``rep`` of one store, so that one query per
metric resamples them all. Every unit has one event whose value is Gamma(2, scale) with
scale 3 in the control and 3·LIFT in the treatment: the true difference of means is
6·(LIFT − 1) and of medians median(Gamma(2, 3))·(LIFT − 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import gamma

from shipit.metrics.compile import render
from shipit.metrics.kinds import Comparison, kind_of
from shipit.metrics.kinds.bootstrap import BootstrapSummary, bootstrap_p_value
from shipit.metrics.kinds.bootstrap_sql import BootstrapQuery
from shipit.metrics.request import MomentsRequest
from shipit.metrics.run import compute_moments
from shipit.metrics.summary import GroupKey
from shipit.spec.metric import MetricDef
from shipit.stats.results import ComparisonResult
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load
from shipit.store.sql import capabilities_for

REPS, UNITS, LIFT = 250, 60, 1.25
T0 = pd.Timestamp("2024-03-01")


def _store(lift: float) -> DuckDBEngine:
    rng = np.random.default_rng(7)
    n = REPS * 2 * UNITS
    rep = np.repeat(np.arange(REPS), 2 * UNITS)
    treated = np.tile(np.repeat([False, True], UNITS), REPS)
    units = np.array([f"u{i}" for i in range(n)])
    exposures = pd.DataFrame(
        {
            "experiment": "boot",
            "phase": 1,
            "unit_id": units,
            "variant": np.where(treated, "treatment", "control"),
            "timestamp": T0,
            "rep": [f"r{r:03d}" for r in rep],
        }
    )
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "unit_id": units,
            "event": "buy",
            "timestamp": T0 + pd.Timedelta(hours=1),
            "value": rng.gamma(2.0, 3.0, n) * np.where(treated, lift, 1.0),
        }
    )
    e = DuckDBEngine(":memory:")
    load(e, "exposures", exposures)
    load(e, "events", events)
    return e


@pytest.fixture(scope="module")
def engine() -> DuckDBEngine:
    return _store(LIFT)


@pytest.fixture(scope="module")
def null_engine() -> DuckDBEngine:
    """The same experiments without an effect (A/A)."""
    return _store(1.0)


def _compare(engine: DuckDBEngine, metric: MetricDef, by: str | None = "rep") -> ComparisonResult:
    return _comparison(engine, metric, by).raw


def _comparison(engine: DuckDBEngine, metric: MetricDef, by: str | None = "rep") -> Comparison:
    mm = compute_moments(engine, "boot", 1, ["control", "treatment"], [metric], by=by)
    assert isinstance(mm[metric.name], BootstrapSummary)
    cells = mm.segments if by else [None]
    kind = kind_of(metric)
    c, v = kind.pair(
        mm[metric.name],
        mm.rows([GroupKey("control", segment=s) for s in cells]),
        mm.rows([GroupKey("treatment", segment=s) for s in cells]),
    )
    return kind.compare(c, v, alpha=0.05, alternative="two-sided", cuped=True)


def _coverage(r: ComparisonResult, truth: float, relative: bool = False) -> float:
    lo, hi = (r.rel_ci_low, r.rel_ci_high) if relative else (r.abs_ci_low, r.abs_ci_high)
    assert len(lo) == REPS
    assert np.isfinite(lo).all()
    return float(np.mean((lo <= truth) & (truth <= hi)))


def test_mean_interval_covers_the_true_difference(engine: DuckDBEngine) -> None:
    m = MetricDef(name="rev", event="buy", interval="bootstrap", resamples=200, seed=1)
    r = _compare(engine, m)
    assert 0.93 <= _coverage(r, 6.0 * (LIFT - 1.0)) <= 0.97
    assert 0.93 <= _coverage(r, LIFT - 1.0, relative=True) <= 0.97


@pytest.mark.slow  # about 25 s on a busy two-core machine (weighted quantiles per resample)
def test_quantile_interval_covers_the_true_difference(engine: DuckDBEngine) -> None:
    m = MetricDef(
        name="median", event="buy", quantile=0.5, interval="bootstrap", resamples=200, seed=1
    )
    r = _compare(engine, m)
    truth = float(gamma.ppf(0.5, 2.0, scale=3.0)) * (LIFT - 1.0)
    assert 0.93 <= _coverage(r, truth) <= 0.97


def test_same_seed_same_interval_other_seed_another(engine: DuckDBEngine) -> None:
    m = MetricDef(name="rev", event="buy", interval="bootstrap", resamples=100, seed=7)
    a, b = _compare(engine, m, by=None), _compare(engine, m, by=None)
    assert (a.abs_ci_low[0], a.abs_ci_high[0]) == (b.abs_ci_low[0], b.abs_ci_high[0])
    other = _compare(engine, m.model_copy(update={"seed": 8}), by=None)
    assert other.abs_ci_low[0] != a.abs_ci_low[0]
    assert other.abs_ci_high[0] != a.abs_ci_high[0]


def test_weights_are_poisson_one_and_independent(engine: DuckDBEngine) -> None:
    """The SQL weights of 20,000 units × 10 resamples: mean and variance 1, P(0) = e^-1,
    and no correlation between a unit's consecutive resamples or neighbouring units."""
    m = MetricDef(name="rev", event="buy", interval="bootstrap", resamples=100, seed=11)
    query = BootstrapQuery(MomentsRequest("boot", 1, ["control", "treatment"], [m]), m)
    ctes = [("units", "SELECT 'u' || i AS unit_id FROM range(20000) t(i)")]
    ctes += [(n, q) for n, q in query._weights("units") if n != "b_w"]
    ctes[1] = ("b_idx", "SELECT CAST(range AS BIGINT) AS b FROM range(10)")
    body = ",\n".join(f"{n} AS ({q})" for n, q in ctes)
    sql = render(
        f"""WITH {body},
        w AS (SELECT CAST(SUBSTR(unit_id, 2) AS BIGINT) AS i, b, CAST(w AS DOUBLE) AS w
              FROM b_all)
        SELECT AVG(a.w) AS m, VAR_SAMP(a.w) AS v,
               AVG(CASE WHEN a.w = 0 THEN 1.0 ELSE 0.0 END) AS p0,
               CORR(a.w, nb.w) AS next_b, CORR(a.w, nu.w) AS next_unit
        FROM w a
        LEFT JOIN w nb ON nb.i = a.i AND nb.b = a.b + 1
        LEFT JOIN w nu ON nu.i = a.i + 1 AND nu.b = a.b""",
        capabilities_for("duckdb"),
    )
    got = {k: v[0] for k, v in engine.query(sql).to_pydict().items()}
    assert got["m"] == pytest.approx(1.0, abs=0.01)
    assert got["v"] == pytest.approx(1.0, abs=0.02)
    assert got["p0"] == pytest.approx(np.exp(-1.0), abs=0.005)
    assert abs(got["next_b"]) < 0.01  # 180,000 pairs: 3 standard errors is 0.007
    assert abs(got["next_unit"]) < 0.01


def test_ratio_and_proportion_resample_near_the_delta_method(engine: DuckDBEngine) -> None:
    """On one large experiment the bootstrap's standard errors are the analytic ones ± 10%."""
    for m in (
        MetricDef(name="conv", event="buy", aggregation="any", interval="bootstrap"),
        MetricDef(
            name="aov",
            numerator={"event": "buy"},  # type: ignore[arg-type]
            denominator={"event": "buy", "aggregation": "count"},  # type: ignore[arg-type]
            interval="bootstrap",
            resamples=300,
        ),
        MetricDef(name="rev", event="buy", interval="bootstrap", resamples=300),
    ):
        boot = _compare(engine, m, by=None)
        plain = m.model_copy(update={"interval": "default"})
        mm = compute_moments(engine, "boot", 1, ["control", "treatment"], [plain])
        kind = kind_of(plain)
        c, v = kind.pair(
            mm[m.name], mm.rows([GroupKey("control")]), mm.rows([GroupKey("treatment")])
        )
        ref = kind.compare(c, v, alpha=0.05, alternative="two-sided", cuped=False).raw
        assert boot.abs_effect[0] == pytest.approx(ref.abs_effect[0], rel=1e-12)
        if m.name == "conv":  # every unit converts: no variance to resample
            assert boot.abs_se[0] == pytest.approx(0.0, abs=1e-12)
            continue
        assert boot.abs_se[0] == pytest.approx(ref.abs_se[0], rel=0.1)


def test_p_value_is_the_share_of_resamples_across_zero() -> None:
    effects = np.array([[-1.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, np.nan]])
    two = bootstrap_p_value(effects)
    assert two[0] == 0.5
    assert np.isnan(two[1])
    assert bootstrap_p_value(effects, alternative="greater")[0] == 0.25
    assert bootstrap_p_value(effects, alternative="less")[0] == 0.75


def test_p_value_rejects_at_alpha_under_the_null_and_has_welchs_power(
    engine: DuckDBEngine, null_engine: DuckDBEngine
) -> None:
    """A/A: p < 0.05 in 2-9% of the seeded experiments (binomial ±3σ around 5%); with the
    lift it rejects about as often as Welch's test on the same experiments."""
    m = MetricDef(name="rev", event="buy", interval="bootstrap", resamples=200, seed=2)
    null = _comparison(null_engine, m).bootstrap_p_value
    assert null is not None
    assert len(null) == REPS
    assert np.isfinite(null).all()
    assert 0.02 <= float(np.mean(null < 0.05)) <= 0.09
    lifted = _comparison(engine, m)
    p = lifted.bootstrap_p_value
    assert p is not None
    boot, welch = float(np.mean(p < 0.05)), float(np.mean(lifted.raw.p_value < 0.05))
    assert boot > 0.2
    assert abs(boot - welch) <= 0.1


def test_the_analysis_reports_the_bootstrap_p_value(engine: DuckDBEngine) -> None:
    from shipit.analysis.pipeline import analyze
    from shipit.result.schema import from_json, to_json
    from shipit.spec.experiment import Experiment

    m = MetricDef(name="rev", event="buy", interval="bootstrap", resamples=200, seed=3)
    exp = Experiment(
        key="boot",
        variants=[{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
        metrics=[m],
        primary_metric="rev",
    )
    effect = analyze(exp, engine, daily=False).effect("rev", "treatment")
    assert effect is not None
    expected = _comparison(engine, m, by=None).bootstrap_p_value
    assert expected is not None
    assert effect.bootstrap_p_value == pytest.approx(float(expected[0]), abs=0)
    assert effect.bootstrap_p_value < 0.05  # a 25% lift over 30,000 units per variant
    again = from_json(to_json(analyze(exp, engine, daily=False))).effect("rev", "treatment")
    assert again is not None
    assert again.bootstrap_p_value == effect.bootstrap_p_value
