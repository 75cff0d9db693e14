"""Per-unit table moments on PostgreSQL (an Ibis backend) equal DuckDB's on the same rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from shipit.errors import EngineError
from shipit.metrics.table import table_moments
from shipit.spec.metric import Aggregate, Covariate, MetricDef
from shipit.store.engine import connect
from shipit.store.frames import frame_table, store_table

PG = "postgres://postgres@127.0.0.1:5432/test"
METRICS = [
    MetricDef(name="y", column="y", covariates=(Covariate(name="d", column="d"),)),
    MetricDef(name="f", column="f"),
    MetricDef(name="r", numerator=Aggregate(column="y"), denominator=Aggregate(column="d")),
]


@pytest.fixture
def pg_units(rng: np.random.Generator) -> Iterator[tuple[Any, str, pa.Table]]:
    """A per-unit table in PostgreSQL (dropped afterwards) and the same rows in Arrow."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (extra: postgres)")
    try:
        engine = connect(PG)
    except EngineError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (database test) is not reachable: {exc}")
    n = 600
    rows = pa.table(
        {
            "arm": rng.choice(["a", "b", "c"], n),
            "seg": rng.choice(["x", "y"], n),
            "y": rng.normal(size=n),
            "d": rng.integers(1, 4, n),
            "f": rng.random(n) < 0.3,
        }
    )
    name = f"units_{uuid.uuid4().hex[:10]}"
    engine.backend.create_table(name, rows)
    try:
        yield engine, name, rows
    finally:
        engine.execute(f'DROP TABLE "{name}"')
        engine.close()


@pytest.mark.postgres
def test_postgres_moments_equal_duckdb(pg_units: tuple[Any, str, pa.Table]) -> None:
    engine, name, rows = pg_units
    ref = store_table(engine, f"engine:{name}")
    pg = table_moments(
        engine, ref.source, variant="arm", metrics=METRICS, segments=["seg"], declared=ref.declared
    )
    local = frame_table(rows)
    duck = table_moments(
        local.engine, local.source, variant="arm", metrics=METRICS, segments=["seg"]
    )
    assert pg.binary == duck.binary == {"y": False, "f": True, "r": False}
    for m in ("y", "f", "r"):
        np.testing.assert_allclose(pg.overall.moments(m).matrix, duck.overall.moments(m).matrix)
        np.testing.assert_allclose(
            pg.by_segment["seg"].moments(m).matrix, duck.by_segment["seg"].moments(m).matrix
        )
