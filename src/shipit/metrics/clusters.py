"""Moments over clusters, in the engine: the per-unit query grouped by cluster, then summed
over the clusters of each variant.

A cluster design makes the cluster the unit of analysis. Each metric's cluster totals
(num_c, den_c) = (Σy, n) for a mean or proportion, (Σnum, Σden) for a ratio, are computed
per (variant, cluster) by the moments query; a second aggregation in the same query gives
per variant the number of clusters, Σnum_c, Σden_c and their cross products: the moments
the delta method on cluster totals reads (``stats.clustered``). Python sees a few numbers
per variant, not a row per cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from shipit.errors import DataError, InputError
from shipit.metrics.kinds import kind_of
from shipit.metrics.run import plan_moments
from shipit.spec.metric import MetricDef
from shipit.stats.moments import Moments
from shipit.store.engine import Engine
from shipit.store.sql import identifier, literal

__all__ = ["CLUSTER_KINDS", "ClusterMoments", "cluster_moments", "cluster_moments_sql"]

CLUSTER_KINDS = ("mean", "proportion", "ratio")
_NONE = "(none)"  # the segment of units without the attribute (see metrics.compile)


@dataclass(frozen=True)
class ClusterMoments:
    """Per metric the moments over clusters of z = [num, den], one group per variant;
    ``units`` and ``clusters`` per variant."""

    metrics: Mapping[str, Moments]
    units: Mapping[str, int]
    clusters: Mapping[str, int]
    sql: str


def _totals(metric: MetricDef, prefix: str) -> tuple[str, str]:
    kind = kind_of(metric).name
    if kind not in CLUSTER_KINDS:
        raise InputError(
            f"metric {metric.name!r} is a {kind} metric: a cluster design's analysis supports "
            f"{', '.join(CLUSTER_KINDS)} metrics"
        )
    if kind == "ratio":
        return f"{prefix}__num", f"{prefix}__den"
    return f"{prefix}__y", "n"


def cluster_moments_sql(cells_sql: str, metrics: Sequence[tuple[MetricDef, str]]) -> str:
    """The query summing the per-(variant, cluster) cells of ``cells_sql`` over clusters.

    ``metrics`` pairs each metric with its column prefix in the cells query. The result has
    a row per variant; ``mixed`` counts clusters seen in more than one variant and
    ``first_mixed`` names one of them; ``unclustered`` counts units without the attribute.
    """
    sums = ["COUNT(*) AS clusters", "SUM(n) AS units"]
    for i, (metric, prefix) in enumerate(metrics):
        num, den = (f"c.{identifier(col)}" for col in _totals(metric, prefix))
        a, b = f"COALESCE({num}, 0)", f"COALESCE({den}, 0)"
        sums += [
            f"SUM({a}) AS t{i}_num",
            f"SUM({b}) AS t{i}_den",
            f"SUM({a} * {a}) AS t{i}_num_num",
            f"SUM({a} * {b}) AS t{i}_num_den",
            f"SUM({b} * {b}) AS t{i}_den_den",
        ]
    none = literal(_NONE)
    return (
        f"WITH cells AS (SELECT * FROM ({cells_sql}) q WHERE q.n > 0),\n"
        "mixed AS (SELECT segment FROM cells GROUP BY segment "
        "HAVING COUNT(DISTINCT variant) > 1)\n"
        f"SELECT c.variant, {', '.join(sums)}, "
        "(SELECT COUNT(*) FROM mixed) AS mixed, (SELECT MIN(segment) FROM mixed) AS first_mixed, "
        f"(SELECT COALESCE(SUM(n), 0) FROM cells WHERE segment = {none}) AS unclustered "
        f"FROM cells c WHERE c.segment <> {none} GROUP BY c.variant ORDER BY c.variant"
    )


def cluster_moments(
    engine: Engine,
    experiment_key: str,
    phase: int | None,
    variants: Sequence[str],
    metrics: Sequence[MetricDef],
    cluster_by: str,
    *,
    phase_start: datetime | None = None,
    tables: Mapping[str, str] | None = None,
) -> ClusterMoments:
    """Every metric's moments over the clusters (attribute ``cluster_by``) of each variant,
    in one engine round trip. A cluster seen in two variants, or units without the
    attribute, mean the design was not followed: DataError."""
    plan = plan_moments(
        engine,
        experiment_key,
        phase,
        variants,
        metrics,
        by=cluster_by,
        phase_start=phase_start,
        tables=tables,
    )
    prefix = {c.metric: c.prefix for c in plan.columns}
    sql = cluster_moments_sql(plan.sql, [(m, prefix[m.name]) for m in metrics])
    data = engine.query(sql).to_pydict()
    rows = {v: i for i, v in enumerate(data["variant"]) if v is not None}
    if data["variant"]:
        mixed, first = int(data["mixed"][0] or 0), data["first_mixed"][0]
        if mixed:
            raise DataError(
                f"cluster {first!r} ({cluster_by}) and {mixed - 1} more have units in several "
                "variants: a cluster design gives every unit of a cluster the same variant"
            )
        if int(data["unclustered"][0] or 0):
            raise DataError(
                f"{int(data['unclustered'][0])} exposed units have no {cluster_by!r} "
                "attribute: a cluster design needs every unit's cluster"
            )

    def col(name: str) -> np.ndarray:
        out = np.zeros(len(variants))
        for v, i in rows.items():
            if v in variants:
                out[variants.index(v)] = float(data[name][i] or 0.0)
        return out

    found = {}
    for i, m in enumerate(metrics):
        nn, nd, dd = col(f"t{i}_num_num"), col(f"t{i}_num_den"), col(f"t{i}_den_den")
        found[m.name] = Moments.from_sums(
            list(variants),
            ("num", "den"),
            col("clusters"),
            np.column_stack([col(f"t{i}_num"), col(f"t{i}_den")]),
            np.stack([np.column_stack([nn, nd]), np.column_stack([nd, dd])], axis=1),
        )
    units = dict(zip(variants, col("units").astype(int).tolist(), strict=True))
    clusters = dict(zip(variants, col("clusters").astype(int).tolist(), strict=True))
    return ClusterMoments(found, units, clusters, sql)
