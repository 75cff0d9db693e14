"""The interleaving query on PostgreSQL and on Spark (Ibis backends) counts what DuckDB
counts, with clicks before, inside and after their window."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from shipit.errors import EngineError
from shipit.metrics.interleaving import InterleavingCounts, interleaving_counts
from shipit.sim.interleaving import textbook_pair
from shipit.sim.interleaving_events import interleaving_events
from shipit.spec import Experiment
from shipit.store.engine import Engine, connect
from shipit.store.tables import TABLES

PG = "postgres://postgres@127.0.0.1:5432/test"
SPEC = {
    "key": "interleaving-sim",
    "type": "interleaving",
    "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
    "interleaving": {"click_event": "click", "credit": {"max_position": 4}},
}
START = datetime(2026, 1, 1)


def timed_events(sessions: int, units: int, seed: int) -> pa.Table:
    """Seeded sessions whose clicks come before, at, inside, at the end of and after the
    30-minute window from their impression."""
    df = interleaving_events(textbook_pair(), sessions=sessions, units=units, seed=seed).to_pandas()
    clicks = df["event"] == "click"
    delays = np.random.default_rng(seed).choice([-5.0, 0.0, 10.0, 30.0, 45.0], clicks.sum())
    df.loc[clicks, "timestamp"] += pd.to_timedelta(delays, "min")
    return pa.Table.from_pandas(df, preserve_index=False)


def _duckdb_counts(rows: pa.Table, exp: Experiment) -> InterleavingCounts:
    duck = connect(":memory:")
    duck.append(TABLES["events"], rows.to_batches())
    counts = interleaving_counts(exp, duck, phase_start=START)
    assert counts.clicks_outside_window > 0  # the window is exercised
    return counts


@pytest.mark.postgres
def test_postgres_counts_equal_duckdb() -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed (extra: postgres)")
    try:
        pg = connect(PG)
    except EngineError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (database test) is not reachable: {exc}")
    rows = timed_events(800, 150, seed=6)
    exp = Experiment.model_validate(SPEC)
    name = f"events_{uuid.uuid4().hex[:10]}"
    pg.backend.create_table(name, rows)
    try:
        got = interleaving_counts(exp, pg, table=name, phase_start=START)
        assert got == _duckdb_counts(rows, exp)
    finally:
        pg.execute(f'DROP TABLE "{name}"')
        pg.close()


@pytest.mark.spark
def test_spark_counts_equal_duckdb(spark_session: Any) -> None:
    """One small case: Spark is slow to start and to plan."""
    ibis = pytest.importorskip("ibis")
    from shipit.store.ibis import IbisEngine

    rows = timed_events(200, 40, seed=8)
    exp = Experiment.model_validate(SPEC)
    spark_session.createDataFrame(rows).createOrReplaceTempView("interleaving_events")
    spark: Engine = IbisEngine(ibis.pyspark.connect(spark_session))
    got = interleaving_counts(exp, spark, table="interleaving_events", phase_start=START)
    assert got == _duckdb_counts(rows, exp)
