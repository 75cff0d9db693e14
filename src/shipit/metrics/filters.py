"""Filters on event properties (``where``) as SQL conditions, and their check against the
events table. Values are always rendered as SQL literals (strings quoted and escaped by
``store.sql.literal``) and properties as quoted identifiers: a filter is data, never SQL."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping

from shipit.errors import SpecError
from shipit.spec.metric import Filter, MetricDef, Scalar
from shipit.store.sql import identifier, literal

__all__ = ["check_properties", "metric_filters", "where_conditions"]

_COMPARE = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_NUMERIC = ("DOUBLE", "FLOAT", "REAL", "INT", "DECIMAL", "NUMERIC", "BIGINT", "HUGEINT")


def _value(v: Scalar) -> str:
    """A filter value as a SQL literal of its own type."""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        if not math.isfinite(v):
            raise SpecError(f"filter value {v!r} is not a finite number")
        return f"CAST({float(v)!r} AS DOUBLE)"
    return literal(str(v))


def condition(f: Filter, alias: str = "ev") -> str:
    """One filter as a SQL condition on the events row ``alias``."""
    column = f"{alias}.{identifier(f.property)}"
    if f.op == "is_null":
        return f"{column} IS NULL"
    if f.op == "not_null":
        return f"{column} IS NOT NULL"
    if f.op in ("in", "not_in"):
        values = ", ".join(_value(v) for v in f.listed())
        return f"{column} {'NOT IN' if f.op == 'not_in' else 'IN'} ({values})"
    (v,) = f.listed()
    return f"{column} {_COMPARE[f.op]} {_value(v)}"


def where_conditions(filters: Iterable[Filter], alias: str = "ev") -> list[str]:
    """Every filter as a condition (all must hold); comparisons never match a null."""
    return [f"({condition(f, alias)})" for f in filters]


def metric_filters(metric: MetricDef) -> Iterator[Filter]:
    """Every filter of a metric: its own, its numerator's, denominator's and covariates'."""
    yield from metric.where
    for part in (metric.numerator, metric.denominator, *metric.covariates):
        if part is not None:
            yield from part.where


def _is_numeric(sql_type: str) -> bool:
    t = sql_type.upper()
    return any(name in t for name in _NUMERIC) or t.startswith(("FLOAT", "INT", "UINT"))


def _is_text(sql_type: str) -> bool:
    t = sql_type.upper()
    return "VARCHAR" in t or "STRING" in t or t == "TEXT"


def check_properties(metrics: Iterable[MetricDef], columns: Mapping[str, str] | None) -> None:
    """SpecError naming the metric when a filter's property is not an events column, or
    its value's type does not fit the column (a string against a number, or the reverse)."""
    if columns is None:
        return  # no events table yet: the query finds nothing either way
    lowered = {c.lower(): t for c, t in columns.items()}
    for m in metrics:
        for f in metric_filters(m):
            sql_type = lowered.get(f.property.lower())
            if sql_type is None:
                known = ", ".join(sorted(columns))
                raise SpecError(
                    f"metric {m.name!r}: filter on {f.property!r}, which is not a property "
                    f"of the events (columns: {known})"
                )
            numeric = _is_numeric(sql_type)
            for v in f.listed():
                if numeric and isinstance(v, str):
                    raise SpecError(
                        f"metric {m.name!r}: filter on {f.property!r} compares a number "
                        f"column with the text {v!r}: give a number"
                    )
                if _is_text(sql_type) and isinstance(v, int | float):
                    raise SpecError(
                        f"metric {m.name!r}: filter on {f.property!r} compares a text column "
                        f"with the number {v!r}: quote it ('{v}')"
                    )
