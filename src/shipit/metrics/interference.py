"""The exposure analysis of a graph experiment, in the engine.

Each exposed unit's value of the metric comes from the moments query grouped by unit; a join
over the edges (undirected) gives each unit the share of its exposed neighbours that are
treated, f. Per ego cluster the query sums the regression's cross products of
x = [1, t, f] and y (t: the unit is treated), and per exposure condition the totals of y
and the counts: mostly treated (t = 1, f ≥ threshold) and mostly control (t = 0,
f ≤ 1 − threshold). A last aggregation gives their moments over clusters, so Python reads
one row: the cluster-robust regression and the condition contrast come from those moments
(``stats.interference``, ``stats.clustered``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from shipit.errors import DataError, InputError
from shipit.metrics.kinds import kind_of
from shipit.metrics.run import plan_moments
from shipit.spec.metric import MetricDef
from shipit.stats.moments import Moments
from shipit.store.engine import Engine
from shipit.store.sql import identifier, literal

__all__ = ["REGRESSION_TERMS", "ExposureMoments", "edges_relation", "exposure_moments"]

# Per cluster: X'y then the upper triangle of X'X, for x = [1, t, f]: products of columns.
REGRESSION_TERMS: tuple[tuple[str, ...], ...] = (
    ("y",), ("t", "y"), ("f", "y"), (), ("t",), ("f",), ("t", "t"), ("t", "f"), ("f", "f"),
)  # fmt: skip
_CONDITIONS = {
    "treated": "u.t = 1 AND u.f >= {hi}",
    "control": "u.t = 0 AND u.f <= {lo}",
}


@dataclass(frozen=True)
class ExposureMoments:
    """Moments over clusters: ``regression`` of w = the cluster's REGRESSION_TERMS sums
    (names w0..w8); ``conditions`` per condition (mostly treated, mostly control) of its
    cluster totals [num, den] over the clusters that have such units, with the mean share of
    treated neighbours of its units; counts of exposed units and of those with neighbours."""

    regression: Moments
    conditions: Mapping[str, Moments]
    treated_share: Mapping[str, float]
    exposed: int
    with_neighbours: int
    sql: str


def edges_relation(edges: str) -> str:
    """The SQL relation of an edge table: ``engine:NAME`` or a CSV / Parquet file (DuckDB)."""
    if edges.startswith("engine:"):
        return identifier(edges.removeprefix("engine:"))
    suffix = Path(edges).suffix.lower()
    if suffix == ".parquet":
        return f"read_parquet({literal(edges)})"
    if suffix in (".csv", ".tsv", ".txt"):
        return f"read_csv_auto({literal(edges)})"
    raise InputError(f"design.edges {edges!r}: a .csv or .parquet file, or engine:TABLE")


def _sql(
    cells_sql: str,
    y: str,
    treatment: str,
    edges: str,
    exposures: str,
    experiment: str,
    cluster_by: str,
    threshold: float,
) -> str:
    w = ", ".join(
        f"SUM({' * '.join(f'u.{c}' for c in term) or '1'}) AS w{i}"
        for i, term in enumerate(REGRESSION_TERMS)
    )
    cond = []
    for name, where in _CONDITIONS.items():
        test = where.format(hi=repr(threshold), lo=repr(1.0 - threshold))
        cond += [
            f"SUM(CASE WHEN {test} THEN u.y ELSE 0 END) AS {name}_num",
            f"SUM(CASE WHEN {test} THEN 1 ELSE 0 END) AS {name}_den",
            f"SUM(CASE WHEN {test} THEN u.f ELSE 0 END) AS {name}_f",
        ]
    k = len(REGRESSION_TERMS)
    over = ["COUNT(*) AS clusters"] + [f"SUM(w{i}) AS s{i}" for i in range(k)]
    over += [f"SUM(w{i} * w{j}) AS s{i}_{j}" for i in range(k) for j in range(i, k)]
    for name in _CONDITIONS:
        has = f"{name}_den > 0"
        n, d = f"{name}_num", f"{name}_den"
        over += [
            f"COUNT(*) FILTER (WHERE {has}) AS {name}_clusters",
            f"SUM({n}) AS {name}_sn",
            f"SUM({d}) AS {name}_sd",
            f"SUM({n} * {n}) AS {name}_snn",
            f"SUM({n} * {d}) AS {name}_snd",
            f"SUM({d} * {d}) AS {name}_sdd",
            f"SUM({name}_f) AS {name}_sf",
        ]
    t = literal(treatment)
    return (
        f"WITH cells AS (SELECT CAST(q.segment AS VARCHAR) AS unit_id, q.variant, "
        f"q.{identifier(y)} / q.n AS y FROM ({cells_sql}) q WHERE q.n > 0),\n"
        f"clusters AS (SELECT CAST(unit_id AS VARCHAR) AS unit_id, "
        f"MIN(CAST({identifier(cluster_by)} AS VARCHAR)) AS cluster FROM {identifier(exposures)} "
        f"WHERE experiment = {literal(experiment)} GROUP BY 1),\n"
        "links AS (SELECT CAST(unit_id AS VARCHAR) AS a, CAST(neighbour_id AS VARCHAR) AS b "
        f"FROM {edges} UNION SELECT CAST(neighbour_id AS VARCHAR), CAST(unit_id AS VARCHAR) "
        f"FROM {edges}),\n"
        f"around AS (SELECT l.a AS unit_id, AVG(CASE WHEN c.variant = {t} THEN 1.0 ELSE 0.0 END) "
        "AS f FROM links l JOIN cells c ON c.unit_id = l.b WHERE l.a <> l.b GROUP BY l.a),\n"
        f"units AS (SELECT c.y, CASE WHEN c.variant = {t} THEN 1.0 ELSE 0.0 END AS t, a.f, "
        "k.cluster FROM cells c JOIN around a ON a.unit_id = c.unit_id "
        "JOIN clusters k ON k.unit_id = c.unit_id),\n"
        f"per AS (SELECT u.cluster, {w}, "
        f"{', '.join(cond)} FROM units u GROUP BY u.cluster)\n"
        f"SELECT {', '.join(over)}, (SELECT COUNT(*) FROM cells) AS exposed, "
        "(SELECT COUNT(*) FROM units) AS with_neighbours FROM per"
    )


def exposure_moments(
    engine: Engine,
    experiment_key: str,
    phase: int | None,
    variants: Sequence[str],
    control: str,
    metric: MetricDef,
    *,
    edges: str,
    cluster_by: str,
    threshold: float,
    phase_start: datetime | None = None,
    tables: Mapping[str, str] | None = None,
) -> ExposureMoments:
    """The moments of the exposure analysis of ``metric`` (a mean or proportion) for an
    experiment with one treatment, in one engine round trip."""
    kind = kind_of(metric).name
    if kind not in ("mean", "proportion"):
        raise InputError(
            f"metric {metric.name!r} is a {kind} metric: the exposure analysis reads a mean or "
            "proportion"
        )
    treatments = [v for v in variants if v != control]
    if len(treatments) != 1:
        raise InputError(f"the exposure analysis compares one treatment, not {treatments}")
    plan = plan_moments(
        engine,
        experiment_key,
        phase,
        variants,
        [metric],
        by="unit_id",
        phase_start=phase_start,
        tables=tables,
    )
    y = plan.columns[0].sum_column("y")
    exposures = (tables or {}).get("exposures", "exposures")
    sql = _sql(
        plan.sql,
        y,
        treatments[0],
        edges_relation(edges),
        exposures,
        experiment_key,
        cluster_by,
        threshold,
    )
    row = {k: v[0] for k, v in engine.query(sql).to_pydict().items()}
    clusters = float(row["clusters"] or 0)
    if clusters < 3:
        raise DataError(
            f"experiment {experiment_key!r}: {int(clusters)} clusters have exposed units with "
            "exposed neighbours; the exposure analysis needs at least 3"
        )
    k = len(REGRESSION_TERMS)
    sums = np.array([float(row[f"s{i}"] or 0.0) for i in range(k)])
    cross = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            cross[i, j] = cross[j, i] = float(row[f"s{i}_{j}"] or 0.0)
    names = tuple(f"w{i}" for i in range(k))
    regression = Moments.from_sums(["all"], names, [clusters], sums[None], cross[None])
    conditions, share = {}, {}
    for name in _CONDITIONS:
        sn, sd = float(row[f"{name}_sn"] or 0.0), float(row[f"{name}_sd"] or 0.0)
        nn, nd, dd = (float(row[f"{name}_{s}"] or 0.0) for s in ("snn", "snd", "sdd"))
        conditions[name] = Moments.from_sums(
            [name], ("num", "den"), [float(row[f"{name}_clusters"] or 0)],
            [[sn, sd]], [[[nn, nd], [nd, dd]]],
        )  # fmt: skip
        share[name] = float(row[f"{name}_sf"] or 0.0) / sd if sd else float("nan")
    return ExposureMoments(
        regression,
        conditions,
        share,
        int(row["exposed"] or 0),
        int(row["with_neighbours"] or 0),
        sql,
    )
