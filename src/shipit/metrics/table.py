"""Moments of a per-unit table (one row per unit): every metric, every variant, every
segment, in ONE aggregation query on the engine.

A metric of a per-unit table names its ``column`` (a mean, or with ``aggregation: any`` a
proportion) or a numerator and a denominator column (a ratio); covariates name columns too.
Each distinct column value is computed once; the query sums it and the products each
metric's z = [1, y, x...] needs, grouped by ``GROUPING SETS ((variant), (variant, s1), ...,
())``, so a 10M-row table is read once whatever the number of metrics and segments. Only
those sums cross into Python (``stats.Moments``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shipit.errors import DataError, InputError
from shipit.metrics.summary import GroupKey, MetricMoments, Summary
from shipit.spec.metric import Aggregate, MetricDef
from shipit.stats.moments import Moments
from shipit.store.engine import Engine
from shipit.store.sql import identifier, literal, transpile

__all__ = ["TableMoments", "table_columns", "table_moments"]

MISSING_SEGMENT = "(missing)"


@dataclass(frozen=True)
class TableMoments:
    """What one scan of a per-unit table gives: moments overall and by each segment column,
    the row count, distinct units (when a unit column is named) and which metrics' values
    are all 0 or 1 (or boolean), so that a caller may read them as proportions."""

    overall: MetricMoments
    by_segment: dict[str, MetricMoments]
    rows: int
    units: int | None
    binary: dict[str, bool]
    sql: str


def table_columns(engine: Engine, source: str) -> dict[str, pa.DataType]:
    """The columns of a table (``source`` is SQL for its FROM clause) and their Arrow types."""
    schema = engine.query(f"SELECT * FROM {source} LIMIT 0").schema
    return {f.name: f.type for f in schema}


def _is_number(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def _value_columns(metric: MetricDef) -> list[tuple[str, bool]]:
    """(column, as 0/1 indicator) of z before the covariates."""
    if metric.numerator is not None and metric.denominator is not None:
        parts: list[Aggregate | MetricDef] = [metric.numerator, metric.denominator]
    else:
        parts = [metric]
    out = []
    for p in parts:
        if p.column is None:
            raise InputError(f"metric {metric.name!r}: a per-unit table metric names a column")
        out.append((p.column, p.aggregation == "any"))
    return out


def _check(
    found: dict[str, pa.DataType], name: str, what: str, *, numeric: bool, table: str
) -> None:
    if name not in found:
        raise InputError(
            f"{what}: no column {name!r} in {table} (columns: {', '.join(found) or 'none'})"
        )
    t = found[name]
    if numeric and not (_is_number(t) or pa.types.is_boolean(t)):
        raise InputError(
            f"{what}: column {name!r} of {table} holds {t}, not numbers: "
            "an outcome or covariate must be numeric or boolean"
        )


def _value_sql(column: str, arrow: pa.DataType, indicator: bool, dialect: str) -> str:
    """The column as a DOUBLE (booleans and indicators as 0/1; NULL stays NULL)."""
    col = identifier(column, dialect)
    if pa.types.is_boolean(arrow):
        return f"CASE WHEN {col} THEN 1.0 WHEN NOT {col} THEN 0.0 END"
    if indicator:
        return f"CASE WHEN {col} IS NULL THEN NULL WHEN {col} <> 0 THEN 1.0 ELSE 0.0 END"
    return f"CAST({col} AS DOUBLE)"


def table_moments(
    engine: Engine,
    source: str,
    *,
    variant: str,
    metrics: Sequence[MetricDef],
    segments: Sequence[str] = (),
    unit: str | None = None,
    table: str = "the table",
) -> TableMoments:
    """Moments of every metric per variant (and per variant × segment) of a per-unit table.

    ``source`` is SQL for the FROM clause (a table name, ``read_parquet('...')``, a
    subquery); ``table`` names it in messages. Missing values in a used column, a missing
    variant, a column that does not exist or is not numeric raise an InputError or a
    DataError naming the metric and the column.
    """
    d = engine.dialect
    found = table_columns(engine, source)
    _check(found, variant, "variant column", numeric=False, table=table)
    if unit is not None:
        _check(found, unit, "unit column", numeric=False, table=table)
    for s in segments:
        _check(found, s, f"segment {s!r}", numeric=False, table=table)
    if len(set(segments)) != len(segments) or variant in segments:
        raise InputError(f"segments {list(segments)} repeat a column or name the variant column")
    # distinct (column, indicator) values -> position; each metric's z as positions
    values: dict[tuple[str, bool], int] = {}
    users: dict[tuple[str, bool], str] = {}
    z_of: dict[str, list[int]] = {}
    for m in metrics:
        cols = _value_columns(m)
        for c in m.covariates:
            if c.column is None:
                raise InputError(f"metric {m.name!r}: covariate {c.name!r} names no column")
            cols.append((c.column, False))
        for col, ind in cols:
            _check(found, col, f"metric {m.name!r}", numeric=True, table=table)
            users.setdefault((col, ind), m.name)
        z_of[m.name] = [values.setdefault(key, len(values)) for key in cols]
    pairs = sorted(
        {(min(a, b), max(a, b)) for z in z_of.values() for a in z for b in z},
    )
    select = [f"CAST({identifier(variant, d)} AS VARCHAR) AS v"]
    select += [
        f"COALESCE(CAST({identifier(s, d)} AS VARCHAR), {literal(MISSING_SEGMENT)}) AS g{i}"
        for i, s in enumerate(segments)
    ]
    select += [f"{_value_sql(col, found[col], ind, d)} AS c{i}" for (col, ind), i in values.items()]
    if unit is not None:
        select.append(f"{identifier(unit, d)} AS u")
    aggs = ["COUNT(*) AS n", "SUM(CASE WHEN v IS NULL THEN 1 ELSE 0 END) AS nv"]
    aggs += [f"SUM(c{i}) AS s{i}" for i in range(len(values))]
    aggs += [f"SUM(c{a} * c{b}) AS p{a}_{b}" for a, b in pairs]
    aggs += [f"SUM(CASE WHEN c{i} IS NULL THEN 1 ELSE 0 END) AS z{i}" for i in range(len(values))]
    aggs += [f"MIN(CASE WHEN c{i} IN (0, 1) THEN 1 ELSE 0 END) AS b{i}" for i in range(len(values))]
    if unit is not None:
        aggs.append("COUNT(DISTINCT u) AS units")
    keys = ["v", *(f"g{i}" for i in range(len(segments)))]
    aggs += [f"GROUPING({k}) AS gr_{k}" for k in keys]
    sets = ["(v)", *(f"(v, g{i})" for i in range(len(segments))), "()"]
    sql = (
        f"WITH src AS (SELECT {', '.join(select)} FROM {source})\n"
        f"SELECT {', '.join(keys)}, {', '.join(aggs)}\nFROM src\n"
        f"GROUP BY GROUPING SETS ({', '.join(sets)})"
    )
    sql = transpile(sql, d)
    res = engine.query(sql).to_pydict()
    total = [i for i, g in enumerate(res["gr_v"]) if g == 1]
    if not total:
        raise DataError(f"{table} has no rows")
    t = total[0]
    rows = int(res["n"][t])
    if rows == 0:
        raise DataError(f"{table} has no rows")
    if res["nv"][t]:
        raise DataError(
            f"variant column {variant!r} of {table} is empty on {int(res['nv'][t])} of "
            f"{rows} rows: drop or fill them"
        )
    for (col, _), i in values.items():
        if res[f"z{i}"][t]:
            raise DataError(
                f"metric {users[(col, _)]!r}: column {col!r} of {table} is missing on "
                f"{int(res[f'z{i}'][t])} of {rows} rows: drop or fill them"
            )

    variants = sorted({str(v) for v, g in zip(res["v"], res["gr_v"], strict=True) if g == 0})

    def build(rows_of: list[int], keys: list[GroupKey]) -> MetricMoments:
        """Every variant in every cell (zero moments where a variant has no row)."""
        segs = sorted({k.segment for k in keys if k.segment is not None})
        cells: list[str | None] = [*segs] if segs else [None]
        groups = tuple(GroupKey(v, c) for c in cells for v in variants)
        index = {g: i for i, g in enumerate(groups)}
        where = np.array([index[k] for k in keys], dtype=np.int64)
        n = np.zeros(len(groups))
        n[where] = [res["n"][r] for r in rows_of]
        out: dict[str, Summary] = {}
        for m in metrics:
            z = z_of[m.name]
            sums = np.zeros((len(groups), len(z)))
            cross = np.zeros((len(groups), len(z), len(z)))
            for a, ia in enumerate(z):
                sums[where, a] = [res[f"s{ia}"][r] or 0.0 for r in rows_of]
                for b, ib in enumerate(z):
                    col = f"p{min(ia, ib)}_{max(ia, ib)}"
                    cross[where, a, b] = [res[col][r] or 0.0 for r in rows_of]
            labels = [g.label for g in groups]
            out[m.name] = Moments.from_sums(labels, _names(m, len(z)), n, sums, cross)
        return MetricMoments(out, groups, 0, 0, sql=sql)

    variant_rows = [
        i
        for i, g in enumerate(res["gr_v"])
        if g == 0 and all(res[f"gr_g{k}"][i] == 1 for k in range(len(segments)))
    ]
    overall = build(variant_rows, [GroupKey(str(res["v"][i])) for i in variant_rows])
    by_segment = {}
    for k, s in enumerate(segments):
        idx = [i for i, g in enumerate(res["gr_v"]) if g == 0 and res[f"gr_g{k}"][i] == 0]
        by_segment[s] = build(
            idx, [GroupKey(str(res["v"][i]), segment=str(res[f"g{k}"][i])) for i in idx]
        )
    binary = {
        m.name: all(bool(res[f"b{i}"][t]) for i in z_of[m.name][: len(_value_columns(m))])
        for m in metrics
    }
    units = int(res["units"][t]) if unit is not None else None
    return TableMoments(overall, by_segment, rows, units, binary, sql)


def _names(metric: MetricDef, d: int) -> tuple[str, ...]:
    """The column names of z after 1, as the metric kinds expect them (y or num, den; x…)."""
    base = ("num", "den") if metric.numerator is not None else ("y",)
    return (*base, *(f"x{i + 1}" for i in range(d - len(base))))
