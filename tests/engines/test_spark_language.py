"""Filters, caps, active days and funnels on PySpark in local mode equal pandas (and so
DuckDB) on the raw rows. Few queries: Spark is slow to start and to plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest

from shipit.errors import SpecError
from shipit.metrics.kinds.funnel import FunnelSummary
from shipit.metrics.run import compute_moments
from shipit.spec.metric import MetricDef
from shipit.store.ibis import IbisEngine
from shipit.store.loaders import _Checker, read_batches
from shipit.store.tables import TABLES

from .conftest import PHASE_START, Dataset, make_dataset
from .test_funnel import FUNNELS, assert_funnel, oracle
from .test_metric_language import ACTIVE, CAPPED, FILTERED, unfiltered, with_properties
from .test_moments import VARIANTS, assert_same

pytestmark = pytest.mark.spark

# Tables of their own, so that they never shadow the other Spark tests' tables.
TABLE_NAMES = {"exposures": "lang_exposures", "events": "lang_events", "units": "lang_units"}


@pytest.fixture(scope="module")
def data() -> Dataset:
    return with_properties(make_dataset())


@pytest.fixture(scope="module")
def spark_engine(spark_session: Any, data: Dataset) -> IbisEngine:
    """The store tables as temp views straight from Arrow, validated as a load would."""
    ibis = pytest.importorskip("ibis")
    for name, view in TABLE_NAMES.items():
        checker = _Checker(TABLES[name], {})
        table = pa.Table.from_batches(
            [checker.check(b, name) for b in read_batches(getattr(data, name))]
        )
        spark_session.createDataFrame(table).createOrReplaceTempView(view)
    return IbisEngine(ibis.pyspark.connect(spark_session))


def test_spark_language_matches_pandas(
    spark_engine: IbisEngine, data: Dataset, reference: Callable[..., Any]
) -> None:
    metrics = [*FILTERED, *CAPPED, *ACTIVE]
    got = compute_moments(
        spark_engine, "checkout", 1, VARIANTS, metrics, phase_start=PHASE_START, tables=TABLE_NAMES
    )
    oracle_data, oracle_metrics = unfiltered(data, metrics)
    want = reference(oracle_data, "checkout", 1, VARIANTS, oracle_metrics, phase_start=PHASE_START)
    assert_same(got, want)


def test_spark_funnels_match_brute_force(spark_engine: IbisEngine, data: Dataset) -> None:
    """One funnel per plan: the earliest chain (a join per step) and ``within_hours``
    (a window per step, with a repeated step); the by-day plan is DuckDB's only."""
    funnels = [FUNNELS[1], FUNNELS[3]]
    got = compute_moments(
        spark_engine, "checkout", 1, VARIANTS, funnels, phase_start=PHASE_START,
        tables=TABLE_NAMES,
    )  # fmt: skip
    for m in funnels:
        summary = got[m.name]
        assert isinstance(summary, FunnelSummary)
        assert_funnel(summary, oracle(data, m))


def test_spark_missing_property_names_the_metric(spark_engine: IbisEngine) -> None:
    bad = MetricDef(name="by_colour", event="view", where=[{"property": "colour", "value": "x"}])
    with pytest.raises(SpecError, match=r"metric 'by_colour'.*'colour'"):
        compute_moments(spark_engine, "checkout", 1, VARIANTS, [bad], tables=TABLE_NAMES)
