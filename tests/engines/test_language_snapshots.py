"""The SQL of filters, caps and funnels is pinned per dialect: a change is a reviewed one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlglot

from shipit.metrics.compile import compile_moments
from shipit.metrics.kinds.funnel_sql import FunnelQuery
from shipit.metrics.request import MomentsRequest
from shipit.spec.metric import MetricDef
from shipit.store.sql import capabilities_for

from .test_metric_language import ACTIVE, CAPPED, FILTERED
from .test_moments import VARIANTS


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_language_sql(dialect: str, snapshot: Callable[[str, str], None]) -> None:
    metrics = [*FILTERED[:6], *CAPPED[-3:], *ACTIVE[:1]]
    q = compile_moments(MomentsRequest("checkout", 1, VARIANTS, metrics), capabilities_for(dialect))
    snapshot(dialect, q.sql)
    sqlglot.parse_one(q.sql, read=dialect)


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
@pytest.mark.parametrize("within", [None, 24.0], ids=["earliest", "within"])
def test_funnel_sql(
    dialect: str,
    within: float | None,
    snapshot: Callable[[str, str], None],
    request: pytest.FixtureRequest,
) -> None:
    m = MetricDef(
        name="checkout",
        funnel=["view", "cart", "purchase"],
        within_hours=within,
        where=[{"property": "country", "op": "ne", "value": "it's"}],
    )
    sql = FunnelQuery(
        MomentsRequest("checkout", 1, VARIANTS, [m]), m, capabilities_for(dialect)
    ).sql()
    snapshot(f"{dialect}-{'earliest' if within is None else 'within'}", sql)
    sqlglot.parse_one(sql, read=dialect)
    assert sql.count('"events"' if dialect == "duckdb" else "`events`") == 1  # one pass
