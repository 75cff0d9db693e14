"""``KindQuery``: what the SQL builders of kinds with queries of their own share: the
request, the metric, the engine's capabilities, the group columns, and the moments query's
CTEs of a stand-in metric (its exposure semantics, so every kind counts the same units).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlglot
from sqlglot import exp

from shipit.metrics.request import MomentsRequest
from shipit.spec.metric import MetricDef
from shipit.store.sql import Capabilities, capabilities_for

__all__ = ["DUCKDB", "KindQuery", "shadow_ctes"]

DUCKDB = capabilities_for("duckdb")


@dataclass(frozen=True)
class KindQuery:
    """The SQL of one metric for a request's experiment and breakdown."""

    request: MomentsRequest
    metric: MetricDef
    capabilities: Capabilities = DUCKDB

    @property
    def keys(self) -> tuple[str, ...]:
        """The group columns of the results: variant[, segment][, day]."""
        return self.request.keys


def shadow_ctes(request: MomentsRequest, metric: MetricDef) -> list[tuple[str, str]]:
    """(name, DuckDB SQL) of every CTE of the moments query of ``metric`` alone, with the
    units × days plan by day and no unit slices or precomputed caps."""
    # Imported on use: metrics.compile imports the kinds, and so the modules using this.
    from shipit.metrics.compile import compile_moments

    shadow = replace(
        request.with_metrics([metric]), day_plan="dense", unit_slice=None, cap_values=None
    )
    tree = sqlglot.parse_one(compile_moments(shadow, DUCKDB).sql, read="duckdb")
    return [(cte.alias, cte.this.sql("duckdb")) for cte in tree.find_all(exp.CTE)]
