"""Metric definitions → ONE SQL query per experiment returning moment sums per group.

The query, readable top to bottom:

1. ``phase_exposures``: the experiment's exposures in the phase;
2. ``first_exposures``: per unit its first exposure time, variant and variant count;
3. ``exposed``: units with exactly one variant (intent to treat: all of them count);
4. ``unit_values``: one pass over the events, per unit one column per metric value and
   covariate, each within its window relative to the unit's first exposure (0 if none);
5. ``caps`` / ``winsorized``: pooled quantile caps (same for all variants; by day, the
   whole period's caps, given as values, so that every day is capped alike);
6. ``moments``: n, Σz and Σzzᵀ per (variant[, segment][, day]) for every metric at once;
7. a last join adds the exposure sanity counts.

It is written once in DuckDB's dialect and rewritten by sqlglot for the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import sqlglot
from sqlglot import exp

from shipit.errors import SpecError
from shipit.metrics.daily import Partial, daily_ctes
from shipit.metrics.windows import bounds, condition
from shipit.spec.metric import Aggregate, Covariate, MetricDef, Window

__all__ = ["CompiledQuery", "MetricColumns", "compile_exposure_count", "compile_moments"]

By = Literal["segment", "day"] | None


@dataclass(frozen=True)
class MetricColumns:
    """Where a metric's moment sums are in the result: ``names`` are the columns of z
    (y, or num and den, then x1..xk) and ``prefix`` the result column prefix."""

    metric: str
    prefix: str
    names: tuple[str, ...]

    def sum_column(self, a: str) -> str:
        """Result column holding Σa."""
        return f"{self.prefix}__{a}"

    def cross_column(self, a: str, b: str) -> str:
        """Result column holding Σa·b (order of a and b does not matter)."""
        i, j = sorted((self.names.index(a), self.names.index(b)))
        return f"{self.prefix}__{self.names[i]}__{self.names[j]}"


@dataclass(frozen=True)
class CompiledQuery:
    """The SQL and how to read its result."""

    sql: str
    dialect: str
    columns: tuple[MetricColumns, ...]
    keys: tuple[str, ...]  # group columns of the result: variant[, segment][, day]
    # (metric, z) -> result column holding its winsorizing cap (not by day).
    caps: Mapping[tuple[str, str], str] = field(default_factory=dict)


def _id(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _lit(value: str) -> str:
    return exp.Literal.string(value).sql("duckdb")


class _Builder:
    """Collects the per-unit value columns and the events they need."""

    def __init__(self, day: bool, sparse: bool = False) -> None:
        self.values: list[str] = []
        self.partials: list[Partial] = []
        self.unit_aliases: list[str] = []
        self.sparse = sparse
        self.events: set[str] = set()
        self.windows: list[Window] = []
        self.unit_columns: list[str] = []
        self.day = day
        # alias -> column of unit_values holding it: equal aggregates are computed once.
        self.source: dict[str, str] = {}
        self._seen: dict[str, str] = {}
        # A unit-total aggregate (covariate) whose window reaches past the exposure: a day's
        # cutoff may not drop events from the join then.
        self.total_after_exposure = False

    def _add(self, sql: str, alias: str, partial: Partial | None = None) -> None:
        key = sql
        if self.sparse and partial is not None:
            key += f" /* cumulative={partial.cumulative} */"
        if key in self._seen:
            self.source[alias] = self._seen[key]
            return
        self._seen[key] = self.source[alias] = alias
        self.values.append(f"{sql} AS {alias}")
        if partial is not None:
            self.partials.append(partial)

    def aggregate(
        self,
        agg: Aggregate | Covariate | MetricDef,
        window: Window,
        alias: str,
        *,
        cumulative: bool,
    ) -> None:
        event = agg.event
        assert event is not None
        self.events.add(event)
        self.windows.append(window)
        conds = [
            f"ev.{_id('event')} = {_lit(event)}",
            *condition(window, f"ev.{_id('timestamp')}", "u.first_ts"),
        ]
        if cumulative and self.day:
            conds.append(f"ev.{_id('timestamp')} < u.cutoff")
        if not cumulative and (window.end_hours is None or window.end_hours > 0):
            self.total_after_exposure = True
        when = " AND ".join(conds)
        value = f"ev.{_id(agg.value)}"
        sql = {
            "sum": f"COALESCE(SUM(CASE WHEN {when} THEN {value} END), 0)",
            "count": f"COUNT(CASE WHEN {when} THEN 1 END)",
            "count_distinct": f"COUNT(DISTINCT CASE WHEN {when} THEN {value} END)",
            "max": f"COALESCE(MAX(CASE WHEN {when} THEN {value} END), 0)",
            "any": f"MAX(CASE WHEN {when} THEN 1 ELSE 0 END)",
        }[agg.aggregation]
        partial = Partial(alias, agg.aggregation, when, value, cumulative)
        self._add(f"CAST({sql} AS DOUBLE)", alias, partial)

    def unit_column(self, column: str, alias: str) -> None:
        key = f"units:{column}"
        if key in self._seen:
            self.source[alias] = self._seen[key]
            return
        self._seen[key] = self.source[alias] = alias
        self.unit_columns.append(f"un.{_id(column)} AS {alias}")
        self.unit_aliases.append(alias)
        self.values.append(f"CAST(COALESCE(MAX(u.{alias}), 0) AS DOUBLE) AS {alias}")


def compile_moments(
    experiment: str,
    phase: int | None,
    variants: Sequence[str],
    metrics: Sequence[MetricDef],
    *,
    by: str | None = None,
    segment_in: Literal["exposures", "units"] = "exposures",
    phase_start: datetime | None = None,
    dialect: str = "duckdb",
    tables: Mapping[str, str] | None = None,
    day_plan: Literal["auto", "dense"] = "auto",
    unit_slice: tuple[int, int] | None = None,
    cap_values: Mapping[tuple[str, str], float | None] | None = None,
) -> CompiledQuery:
    """The one query computing every metric's moments for an experiment.

    ``by`` is None, ``"day"`` (cumulative moments at the end of each UTC day) or the name of
    a segment attribute, read from ``segment_in`` (the exposures or the units table).
    By day, ``day_plan="dense"`` forces the units × days plan (for comparison).
    ``unit_slice=(i, k)`` keeps the units whose id hashes to ``i`` modulo ``k`` (DuckDB):
    moments of disjoint slices add up to the moments of all units.
    By day, winsorized metrics are capped at ``cap_values`` ((metric, z) -> cap, as the
    query without ``by`` returns them): the whole period's caps, the same on every day.
    """
    if not metrics:
        raise SpecError("no metrics to compute")
    if not variants:
        raise SpecError("no variants given")
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise SpecError(f"metric names must be unique, got {names}")
    t = {"exposures": "exposures", "events": "events", "units": "units", **(tables or {})}
    day = by == "day"
    segment = by if by not in (None, "day") else None
    # Daily moments from per-unit changes when every aggregate allows (see metrics.daily).
    aggs = [
        a
        for m in metrics
        for a in ([m.numerator, m.denominator] if m.numerator else [m]) + list(m.covariates)
    ]
    capped_metrics = [m.name for m in metrics if m.winsorize is not None]
    if day and capped_metrics and cap_values is None:
        raise SpecError(
            f"by day, winsorized metrics ({', '.join(capped_metrics)}) need the whole "
            "period's caps (cap_values)"
        )
    sparse = (
        day
        and day_plan == "auto"
        and all(a is not None and a.aggregation != "count_distinct" for a in aggs)
    )
    b = _Builder(day and not sparse, sparse)
    cols: list[MetricColumns] = []
    caps: list[tuple[str, float]] = []
    fixed: dict[str, float] = {}  # alias -> literal cap (by day)
    cap_names: dict[tuple[str, str], str] = {}
    for i, m in enumerate(metrics):
        prefix = f"m{i}"
        if m.numerator is not None and m.denominator is not None:
            zs = ["num", "den"]
            b.aggregate(m.numerator, m.window, f"{prefix}_num", cumulative=True)
            b.aggregate(m.denominator, m.window, f"{prefix}_den", cumulative=True)
        else:
            zs = ["y"]
            b.aggregate(m, m.window, f"{prefix}_y", cumulative=True)
        if m.winsorize is not None and day:
            for z in zs:
                cap = (cap_values or {}).get((m.name, z))
                if cap is not None:
                    fixed[f"{prefix}_{z}"] = float(cap)
        elif m.winsorize is not None:
            caps += [(f"{prefix}_{z}", m.winsorize) for z in zs]
            cap_names.update({(m.name, z): f"{prefix}_{z}" for z in zs})
        for j, cov in enumerate(m.covariates, start=1):
            alias = f"{prefix}_x{j}"
            if cov.column is not None:
                b.unit_column(cov.column, alias)
            else:
                b.aggregate(cov, cov.window, alias, cumulative=False)
            zs.append(f"x{j}")
        cols.append(MetricColumns(m.name, prefix, tuple(zs)))

    keys = ["variant"] + (["segment"] if segment else []) + (["day"] if day else [])
    ts = _id("timestamp")
    where = _phase_filter(experiment, phase)
    if unit_slice is not None:
        i, k = unit_slice
        if dialect != "duckdb" or not 0 <= i < k:
            raise SpecError(f"unit slice {i} of {k} needs 0 <= i < k on DuckDB")
        where.append(f"HASH({_id('unit_id')}) % {int(k)} = {int(i)}")
    start = (
        f"TIMESTAMP {_lit(phase_start.strftime('%Y-%m-%d %H:%M:%S.%f'))}" if phase_start else None
    )
    seg_src = _id(segment) if segment and segment_in == "exposures" else None
    ctes: list[tuple[str, str]] = []
    ctes.append(
        (
            "phase_exposures",
            f"SELECT {_id('unit_id')} AS unit_id, {_id('variant')} AS variant, {ts} AS ts"
            + (f", COALESCE(CAST({seg_src} AS VARCHAR), '(none)') AS segment" if seg_src else "")
            + f" FROM {_id(t['exposures'])} WHERE {' AND '.join(where)}",
        )
    )
    ctes.append(
        (
            "first_exposures",
            "SELECT unit_id, MIN(ts) AS first_ts, MIN(variant) AS variant, "
            "MAX(variant) AS max_variant"
            + (", ARG_MIN(segment, ts) AS segment" if seg_src else "")
            + " FROM phase_exposures"
            + (f" WHERE ts >= {start}" if start else "")
            + " GROUP BY unit_id",
        )
    )
    needs_units = bool(b.unit_columns) or (segment and segment_in == "units")
    unit_cols = list(b.unit_columns)
    if segment and segment_in == "units":
        unit_cols.append(f"un.{_id(segment)} AS segment")
    seg_expr = "f.segment" if seg_src else ""
    select_exposed = ["f.unit_id", "f.first_ts", "f.variant"]
    if seg_expr:
        select_exposed.append(seg_expr)
    select_exposed += unit_cols
    in_variants = ", ".join(_lit(v) for v in variants)
    ctes.append(
        (
            "exposed",
            f"SELECT {', '.join(select_exposed)} FROM first_exposures f"
            + (
                f" LEFT JOIN {_id(t['units'])} un ON un.{_id('unit_id')} = f.unit_id"
                if needs_units
                else ""
            )
            + f" WHERE f.variant = f.max_variant AND f.variant IN ({in_variants})",
        )
    )
    base = "exposed"
    if day:
        ctes.append(
            (
                "days",
                "SELECT CAST(first_ts AS DATE) AS day FROM exposed "
                f"UNION SELECT CAST({ts} AS DATE) AS day FROM {_id(t['events'])} "
                f"WHERE {ts} >= (SELECT MIN(first_ts) FROM exposed)",
            )
        )
    if day and not sparse:
        ctes.append(
            (
                "exposed_days",
                "SELECT e.*, d.day, CAST(d.day AS TIMESTAMP) + INTERVAL '1' DAY AS cutoff "
                "FROM exposed e JOIN days d ON d.day >= CAST(e.first_ts AS DATE)",
            )
        )
        base = "exposed_days"
    # Per unit (and day); variant and segment are the unit's, grouped on rather than carried
    # in aggregate states (less memory per unit).
    group = ["u.unit_id"] + (["u.day"] if day else [])
    carried = ["u.variant"]
    if segment:
        carried.append("COALESCE(CAST(u.segment AS VARCHAR), '(none)') AS segment")
    on = [f"ev.{_id('unit_id')} = u.unit_id"]
    on.append(f"ev.{_id('event')} IN ({', '.join(_lit(e) for e in sorted(b.events))})")
    on += bounds(b.windows, f"ev.{ts}", "u.first_ts")
    if day and not sparse and not b.total_after_exposure:
        on.append(f"ev.{ts} < u.cutoff")
    capped_as: dict[tuple[str, str], str] = {}  # (metric, z) -> its capped column in caps
    if sparse:
        terms: list[tuple[str, str]] = []
        for mc in cols:
            for a_i, a in enumerate(mc.names):
                col_a = _capped(b.source, fixed, f"{mc.prefix}_{a}")
                terms.append((mc.sum_column(a), col_a))
                for b_name in mc.names[a_i:]:
                    col_b = _capped(b.source, fixed, f"{mc.prefix}_{b_name}")
                    terms.append((mc.cross_column(a, b_name), f"{col_a} * {col_b}"))
        ctes += daily_ctes(b.partials, b.unit_aliases, terms, _id(t["events"]), on, ts)
    else:
        group_by = ", ".join(str(i + 1) for i in range(len(group) + len(carried)))
        ctes.append(
            (
                "unit_values",
                f"SELECT {', '.join(group + carried + b.values)} FROM {base} u "
                f"LEFT JOIN {_id(t['events'])} ev ON {' AND '.join(on)} GROUP BY {group_by}",
            )
        )
        source = "unit_values"
        ref = {alias: _capped(b.source, fixed, alias) for alias in b.source}
        if caps:
            capped: dict[tuple[str, float], str] = {}
            for alias, q in caps:
                key = (b.source[alias], q)
                capped.setdefault(key, f"{key[0]}_w{len(capped)}")
                ref[alias] = capped[key]
            quantiles = [
                f"SHIPIT_QUANTILE({c}, {q!r}) AS {name}" for (c, q), name in capped.items()
            ]
            ctes.append(("caps", f"SELECT {', '.join(quantiles)} FROM unit_values"))
            kept = ["v.*"] + [
                f"LEAST(v.{c}, c.{name}) AS {name}" for (c, _), name in capped.items()
            ]
            ctes.append(
                ("winsorized", f"SELECT {', '.join(kept)} FROM unit_values v CROSS JOIN caps c")
            )
            source = "winsorized"
            capped_as = {key: ref[alias] for key, alias in cap_names.items()}
        sums = ["COUNT(*) AS n"]
        for mc in cols:
            for a_i, a in enumerate(mc.names):
                col_a = ref[f"{mc.prefix}_{a}"]
                sums.append(f"SUM({col_a}) AS {mc.sum_column(a)}")
                for b_name in mc.names[a_i:]:
                    col_b = ref[f"{mc.prefix}_{b_name}"]
                    sums.append(f"SUM({col_a} * {col_b}) AS {mc.cross_column(a, b_name)}")
        ctes.append(
            ("moments", f"SELECT {', '.join(keys + sums)} FROM {source} GROUP BY {', '.join(keys)}")
        )
    before = f"(SELECT COUNT(*) FROM phase_exposures WHERE ts < {start})" if start else "0"
    ctes.append(
        (
            "sanity",
            "SELECT (SELECT COUNT(*) FROM first_exposures WHERE variant <> max_variant) "
            f"AS multi_variant_units, {before} AS pre_phase_exposures",
        )
    )
    # Read again only by the sanity counts: recomputed there rather than held in memory.
    inline = {"phase_exposures", "first_exposures"}
    body = ",\n".join(
        f"{name} AS {'NOT MATERIALIZED ' if name in inline else ''}({sql})" for name, sql in ctes
    )
    order = ", ".join("m." + k for k in keys)
    shown = sorted(set(capped_as.values()))
    cap_columns = "".join(f", k.{c} AS cap__{c}" for c in shown)
    text = (
        f"WITH {body}\nSELECT m.*, s.multi_variant_units, s.pre_phase_exposures{cap_columns} "
        f"FROM sanity s LEFT JOIN moments m ON 1 = 1"
        + (" CROSS JOIN caps k" if shown else "")
        + f" ORDER BY {order}"
    )
    return CompiledQuery(
        _render(text, dialect),
        dialect,
        tuple(cols),
        tuple(keys),
        {key: f"cap__{c}" for key, c in capped_as.items()},
    )


def compile_exposure_count(
    experiment: str,
    phase: int | None,
    *,
    dialect: str = "duckdb",
    tables: Mapping[str, str] | None = None,
) -> str:
    """The query counting the experiment's exposure rows (``n``): a bound on its units."""
    table = (tables or {}).get("exposures", "exposures")
    where = " AND ".join(_phase_filter(experiment, phase))
    return _render(f"SELECT COUNT(*) AS n FROM {_id(table)} WHERE {where}", dialect)


def _phase_filter(experiment: str, phase: int | None) -> list[str]:
    """Conditions on the exposures table: the experiment and, when given, its phase."""
    where = [f"{_id('experiment')} = {_lit(experiment)}"]
    if phase is not None:
        where.append(f"{_id('phase')} = {int(phase)}")
    return where


def _capped(source: Mapping[str, str], fixed: Mapping[str, float], alias: str) -> str:
    """The per-unit column of ``alias``, capped when a literal cap is given for it."""
    column = source[alias]
    return f"LEAST({column}, {fixed[alias]!r})" if alias in fixed else column


def _render(sql: str, dialect: str) -> str:
    """Parse the DuckDB text and write it, pretty, for ``dialect``."""
    tree = sqlglot.parse_one(sql, read="duckdb")

    def quantile(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and str(node.this).upper() == "SHIPIT_QUANTILE":
            column, q = node.expressions
            if dialect == "spark":
                # Exact and linearly interpolated, like DuckDB's QUANTILE_CONT.
                return exp.Anonymous(this="PERCENTILE", expressions=[column, q])
            if dialect == "duckdb":
                return exp.Anonymous(this="QUANTILE_CONT", expressions=[column, q])
            return exp.WithinGroup(
                this=exp.PercentileCont(this=q),
                expression=exp.Order(expressions=[exp.Ordered(this=column)]),
            )
        return node

    tree = tree.transform(quantile)
    if dialect not in ("duckdb", "postgres"):
        for cte in tree.find_all(exp.CTE):
            cte.set("materialized", None)  # a hint the others do not take
    return tree.sql(dialect=dialect, pretty=True)
