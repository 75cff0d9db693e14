"""The rank test and bootstrap intervals on PySpark in local mode: Mann-Whitney's U, p and θ
equal scipy on the raw per-unit values, and the same seed draws the same weights as on
DuckDB, so the same resampled estimates and intervals (to 1e-12). Few queries on the
suite's small data set: Spark plans slowly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from shipit.metrics.kinds import kind_of
from shipit.metrics.kinds.bootstrap import BootstrapSummary
from shipit.metrics.kinds.rank import RankSummary
from shipit.metrics.run import compute_moments
from shipit.metrics.summary import GroupKey, MetricMoments
from shipit.spec.metric import MetricDef
from shipit.store.duckdb import DuckDBEngine
from shipit.store.engine import Engine
from shipit.store.loaders import load

from .conftest import PHASE_START, Dataset
from .test_quantile import observations
from .test_spark import spark_engine  # noqa: F401  (the Spark store fixture)

pytestmark = pytest.mark.spark

VARIANTS = ["control", "treatment"]
RANKED = MetricDef(name="views", event="view", aggregation="count", test="mann_whitney")
BOOTSTRAPPED = [
    MetricDef(
        name="aov",
        numerator={"event": "purchase"},  # type: ignore[arg-type]
        denominator={"event": "purchase", "aggregation": "count"},  # type: ignore[arg-type]
        interval="bootstrap",
        resamples=100,
        seed=3,
    ),
    MetricDef(
        name="p75_purchase",
        event="purchase",
        quantile=0.75,
        interval="bootstrap",
        resamples=100,
        seed=3,
    ),
]


@pytest.fixture(scope="module")
def duck(dataset: Dataset) -> DuckDBEngine:
    e = DuckDBEngine(":memory:")
    for name in ("exposures", "events", "units"):
        load(e, name, getattr(dataset, name))
    return e


def _moments(engine: Engine, metrics: list[MetricDef]) -> MetricMoments:
    return compute_moments(
        engine, "checkout", 1, VARIANTS, metrics, by="country", phase_start=PHASE_START
    )


def _pairs(mm: MetricMoments, metric: MetricDef) -> tuple[Any, Any, list[str]]:
    cells = mm.segments
    c, v = kind_of(metric).pair(
        mm[metric.name],
        mm.rows([GroupKey("control", segment=s) for s in cells]),
        mm.rows([GroupKey("treatment", segment=s) for s in cells]),
    )
    return c, v, cells


def test_spark_mann_whitney_equals_scipy(request: pytest.FixtureRequest, dataset: Dataset) -> None:
    spark = request.getfixturevalue("spark_engine")
    mm = _moments(spark, [RANKED])
    c, v, cells = _pairs(mm, RANKED)
    assert isinstance(v, RankSummary)
    r = v.rank()
    units = RANKED.model_copy(update={"quantile": 0.5, "quantile_of": "units", "test": "default"})
    raw = observations(dataset, units, "country", PHASE_START)
    assert len(cells) >= 3
    for i, cell in enumerate(cells):
        x_c, x_v = raw[("control", cell, None)][0], raw[("treatment", cell, None)][0]
        ref = mannwhitneyu(x_v, x_c, method="asymptotic")
        assert r.u[i] == pytest.approx(ref.statistic, rel=1e-12, abs=1e-9), cell
        assert r.p_value[i] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12), cell
        diff = x_v[:, None] - x_c[None, :]
        theta = (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size
        assert r.prob_superiority[i] == pytest.approx(theta, rel=1e-12), cell
    compared = kind_of(RANKED).compare(c, v, alpha=0.05, alternative="two-sided", cuped=False)
    np.testing.assert_allclose(compared.raw.p_value, r.p_value, rtol=1e-12)


def test_spark_bootstrap_resamples_equal_duckdb(
    request: pytest.FixtureRequest, duck: DuckDBEngine
) -> None:
    """Same seed, same weights on both engines: the resampled estimates and so the
    percentile intervals are DuckDB's (a ratio and a weighted quantile, by segment)."""
    spark = request.getfixturevalue("spark_engine")
    got, want = _moments(spark, BOOTSTRAPPED), _moments(duck, BOOTSTRAPPED)
    for m in BOOTSTRAPPED:
        s, d = got[m.name], want[m.name]
        assert isinstance(s, BootstrapSummary)
        assert isinstance(d, BootstrapSummary)
        assert s.resamples is not None
        assert d.resamples is not None
        assert s.groups == d.groups
        assert np.isfinite(d.resamples).sum() > 0.9 * d.resamples.size, m.name
        # The same units drawn with the same weights: the estimates agree to the last few
        # bits (a unit's sum of event values is a float sum in each engine's own order).
        np.testing.assert_allclose(s.resamples, d.resamples, rtol=1e-12, err_msg=m.name)
        kind = kind_of(m)
        (sc, sv, _), (dc, dv, _) = _pairs(got, m), _pairs(want, m)
        a = kind.compare(sc, sv, alpha=0.05, alternative="two-sided", cuped=False).raw
        b = kind.compare(dc, dv, alpha=0.05, alternative="two-sided", cuped=False).raw
        for name in ("abs_ci_low", "abs_ci_high", "rel_ci_low", "rel_ci_high", "abs_se"):
            np.testing.assert_allclose(
                getattr(a, name), getattr(b, name), rtol=1e-12, err_msg=f"{m.name} {name}"
            )
