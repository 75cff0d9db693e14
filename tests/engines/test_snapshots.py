"""The generated SQL is pinned per dialect, so a change to it is a reviewed change."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlglot

from shipit.errors import SpecError
from shipit.metrics.compile import compile_moments
from shipit.metrics.request import MomentsRequest
from shipit.store.sql import capabilities_for

from .conftest import PHASE_START
from .test_moments import DAILY, METRICS, VARIANTS


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_all_options_sql(dialect: str, snapshot: Callable[[str, str], None]) -> None:
    q = compile_moments(
        MomentsRequest("checkout", 1, VARIANTS, METRICS, phase_start=PHASE_START),
        capabilities_for(dialect),
    )
    snapshot(dialect, q.sql)
    sqlglot.parse_one(q.sql, read=dialect)  # and it parses back


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_by_day_sql(dialect: str, snapshot: Callable[[str, str], None]) -> None:
    caps = {("revenue_w", "y"): 41.5, ("ratio_w_cov", "num"): 12.25, ("ratio_w_cov", "den"): 3.0}
    q = compile_moments(
        MomentsRequest("checkout", 1, VARIANTS, METRICS[-3:], by="day", cap_values=caps),
        capabilities_for(dialect),
    )
    snapshot(dialect, q.sql)


def test_winsorized_by_day_needs_the_period_caps() -> None:
    with pytest.raises(SpecError, match=r"winsorized metrics \(revenue_w, ratio_w_cov\) need"):
        compile_moments(MomentsRequest("checkout", 1, VARIANTS, METRICS[-3:], by="day"))


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_by_segment_sql(dialect: str, snapshot: Callable[[str, str], None]) -> None:
    q = compile_moments(
        MomentsRequest("checkout", None, VARIANTS, METRICS[:2], by="tier", segment_in="units"),
        capabilities_for(dialect),
    )
    snapshot(dialect, q.sql)


def test_one_query_for_all_metrics() -> None:
    q = compile_moments(MomentsRequest("checkout", 1, VARIANTS, METRICS))
    assert len(sqlglot.parse(q.sql, read="duckdb")) == 1
    assert q.sql.count('"events"') == 1  # one pass over the events


def test_spark_quantile_is_exact() -> None:
    q = compile_moments(MomentsRequest("checkout", 1, VARIANTS, METRICS), capabilities_for("spark"))
    assert "PERCENTILE(" in q.sql
    assert "APPROX" not in q.sql.upper()


def test_no_distinct_and_one_group_key_per_unit() -> None:
    """Multi-variant units are found by MIN <> MAX, not COUNT(DISTINCT); per-unit values
    are grouped by the unit and its variant (no aggregate state carries the variant)."""
    plain = [m for m in METRICS if m.aggregation != "count_distinct"]
    q = compile_moments(MomentsRequest("checkout", 1, VARIANTS, plain))
    assert "DISTINCT" not in q.sql.upper()
    body = q.sql.split("unit_values AS (")[1].split("\n), ")[0]
    assert body.rstrip().endswith("GROUP BY\n    1,\n    2")
    assert "ANY_VALUE" not in body


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_by_day_changes_sql(dialect: str, snapshot: Callable[[str, str], None]) -> None:
    q = compile_moments(
        MomentsRequest("checkout", 1, VARIANTS, DAILY, by="day"), capabilities_for(dialect)
    )
    assert "exposed_days" not in q.sql
    snapshot(dialect, q.sql)
