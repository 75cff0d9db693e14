"""Daily moments are sliced to fit DuckDB's memory limit: the engine reads its limit back in
bytes, and the slice size follows it (bounded below), unchanged without a small limit."""

from __future__ import annotations

import pytest

from shipit.metrics.run import (
    COLUMNS_BYTES_PER_UNIT,
    COLUMNS_SLICE_UNITS,
    DAILY_BYTES_PER_UNIT,
    SLICE_UNITS,
    _slice_units,
)
from shipit.store.duckdb import DuckDBEngine


@pytest.mark.parametrize(
    ("setting", "approx"),
    [("4000MB", 4000 * 10**6), ("2GiB", 2 * 2**30), ("300MB", 300 * 10**6)],
)
def test_memory_limit_is_read_back_in_bytes(setting: str, approx: int) -> None:
    engine = DuckDBEngine(":memory:")
    engine.execute(f"SET memory_limit = '{setting}'")
    got = engine.memory_limit()
    assert got is not None
    # DuckDB prints the limit rounded (e.g. "3.7 GiB"): within its rounding.
    assert got == pytest.approx(approx, rel=0.02)


def test_slices_follow_the_memory_limit() -> None:
    engine = DuckDBEngine(":memory:")
    engine.execute("SET memory_limit = '3000MB'")
    limit = engine.memory_limit()
    assert limit is not None
    assert _slice_units(engine) == limit // DAILY_BYTES_PER_UNIT < SLICE_UNITS
    engine.execute("SET memory_limit = '100MB'")
    assert _slice_units(engine) == 100_000
    engine.execute("SET memory_limit = '500GB'")
    assert _slice_units(engine) == SLICE_UNITS
    # An engine that does not say its limit keeps the default.
    assert _slice_units(object()) == SLICE_UNITS  # type: ignore[arg-type]


def test_the_plan_with_a_column_per_day_takes_larger_slices() -> None:
    engine = DuckDBEngine(":memory:")
    engine.execute("SET memory_limit = '4608MB'")
    limit = engine.memory_limit()
    assert limit is not None
    columns = _slice_units(engine, COLUMNS_BYTES_PER_UNIT, COLUMNS_SLICE_UNITS)
    assert columns == limit // COLUMNS_BYTES_PER_UNIT > _slice_units(engine)
    # 10M units in four slices rather than seven.
    assert -(-10_000_000 // columns) == 4
    assert -(-10_000_000 // _slice_units(engine)) == 7
