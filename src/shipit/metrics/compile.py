"""Metric definitions → ONE SQL query per experiment returning moment sums per group.

The query, readable top to bottom (one function below per CTE):

1. ``phase_exposures``: the experiment's exposures in the phase;
2. ``first_exposures``: per unit its first exposure time, variant and variant count;
3. ``exposed``: units with exactly one variant (intent to treat: all of them count);
4. ``unit_values``: one pass over the events, per unit one column per metric value and
   covariate, each within its window relative to the unit's first exposure (0 if none);
5. ``caps`` / ``winsorized``: pooled quantile caps, upper and lower (same for all
   variants, of the values after any absolute ``cap``; by day, the whole period's caps,
   given as values, so that every day is capped alike);
6. ``moments``: n, Σz and Σzzᵀ per (variant[, segment][, day]) for every metric at once;
7. a last join adds the exposure sanity counts.

Which per-unit values a metric needs is its kind's business (``metrics.kinds``); what the
dialect can do is the engine's (``store.sql.Capabilities``). It is written once in
DuckDB's dialect and rewritten by sqlglot for the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from shipit.errors import SpecError
from shipit.metrics.daily import MAX_SPAN_DAYS, daily_ctes, pivot_ctes, span_days
from shipit.metrics.exposures import Cte, exposure_ctes, phase_filter, phase_start_literal
from shipit.metrics.kinds import kind_of
from shipit.metrics.request import MomentsRequest
from shipit.metrics.units import Bounds, UnitValues, capped
from shipit.metrics.windows import bounds
from shipit.spec.metric import Aggregate, Covariate, MetricDef
from shipit.store.sql import Capabilities, capabilities_for, identifier, literal

__all__ = [
    "CompiledQuery",
    "MetricColumns",
    "columns_per_day",
    "compile_exposure_count",
    "compile_moments",
    "render",
]

_DUCKDB = capabilities_for("duckdb")


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


@dataclass
class _Values:
    """The per-unit values of every moment metric, and how they are capped."""

    units: UnitValues
    columns: list[MetricColumns]
    sparse: bool
    # (alias, lower quantile, upper quantile): pooled quantile caps (winsorize)
    pooled_caps: list[tuple[str, float | None, float | None]] = field(default_factory=list)
    # alias -> literal (min, max) caps: ``cap``, and by day the period's winsorizing caps
    fixed: dict[str, Bounds] = field(default_factory=dict)
    cap_names: dict[tuple[str, str], str] = field(default_factory=dict)  # (metric, z) -> alias


def compile_moments(request: MomentsRequest, capabilities: Capabilities = _DUCKDB) -> CompiledQuery:
    """The one query computing every moment metric's moments for the request."""
    values = _plan_values(request)
    ctes = exposure_ctes(request, capabilities, values.units.unit_columns)
    base = "exposed"
    if request.day:
        ctes.append(_days(request))
    if request.day and not values.sparse:
        ctes.append(_exposed_days())
        base = "exposed_days"
    on = _event_join(request, values)
    capped_as: dict[tuple[str, str], str] = {}  # (metric, z) -> its capped column in caps
    if values.sparse:
        ctes += _daily_changes(request, values, on)
    else:
        ctes.append(_unit_values(request, values, base, on))
        ref = {a: capped(values.units.source, values.fixed, a) for a in values.units.source}
        source = "unit_values"
        if values.pooled_caps:
            pooled, cap_columns = _winsorized(values, ref)
            ctes += pooled
            source = "winsorized"
            for (metric, z), alias in values.cap_names.items():
                lower, upper = cap_columns[alias]
                if upper is not None:
                    capped_as[(metric, z)] = upper
                if lower is not None:
                    capped_as[(metric, f"{z}:lower")] = lower
        ctes.append(_moments(request, values, ref, source))
    ctes.append(_sanity(request))
    shown = sorted(set(capped_as.values()))
    return CompiledQuery(
        render(_query(ctes, request.keys, shown), capabilities),
        capabilities.dialect,
        tuple(values.columns),
        request.keys,
        {key: f"cap__{c}" for key, c in capped_as.items()},
    )


def _plan_values(request: MomentsRequest) -> _Values:
    """Per metric its kind's unit values (prefix m<i>), covariates and caps."""
    metrics = [(i, m, kind_of(m)) for i, m in enumerate(request.metrics)]
    metrics = [(i, m, k) for i, m, k in metrics if k.unit_values(m)]
    day = request.day
    capped_metrics = [m.name for _, m, _ in metrics if m.winsorize is not None]
    # (metric, z) -> cap: upper pooled caps under z, lower ones under "z:lower".
    if day and capped_metrics and request.cap_values is None:
        raise SpecError(
            f"by day, winsorized metrics ({', '.join(capped_metrics)}) need the whole "
            "period's caps (cap_values)"
        )
    # Daily moments from per-unit changes when every aggregate allows (see metrics.daily).
    aggs: list[Aggregate | Covariate | MetricDef] = [
        a for _, m, k in metrics for _, a in k.unit_values(m)
    ]
    aggs += [c for _, m, _ in metrics for c in m.covariates]
    sparse = (
        day
        and bool(aggs)
        and request.day_plan in ("auto", "changes")
        and all(
            a is not None and a.aggregation not in ("count_distinct", "active_days") for a in aggs
        )
    )
    out = _Values(UnitValues(day and not sparse, sparse), [], sparse)
    b = out.units
    for i, m, kind in metrics:
        prefix = f"m{i}"
        zs = []
        for z, agg in kind.unit_values(m):
            b.aggregate(agg, m.window, f"{prefix}_{z}", cumulative=True)
            zs.append(z)
        for z in zs:
            _plan_caps(out, request, m, z, f"{prefix}_{z}")
        for j, cov in enumerate(m.covariates, start=1):
            alias = f"{prefix}_x{j}"
            if cov.column is not None:
                b.unit_column(cov.column, alias)
            else:
                b.aggregate(cov, cov.window, alias, cumulative=False)
            zs.append(f"x{j}")
        out.columns.append(MetricColumns(m.name, prefix, tuple(zs)))
    return out


def _plan_caps(out: _Values, request: MomentsRequest, m: MetricDef, z: str, alias: str) -> None:
    """The caps of one value column: absolute ``cap`` bounds, and winsorizing's pooled
    quantiles (by day, the whole period's, as literal bounds)."""
    lo = m.cap.min if m.cap is not None else None
    hi = m.cap.max if m.cap is not None else None
    if m.winsorize is not None and request.day:
        given = request.cap_values or {}
        upper, lower = given.get((m.name, z)), given.get((m.name, f"{z}:lower"))
        if m.winsorize_upper is not None and upper is not None:
            hi = float(upper) if hi is None else min(hi, float(upper))
        if m.winsorize_lower is not None and lower is not None:
            lo = float(lower) if lo is None else max(lo, float(lower))
    elif m.winsorize is not None:
        out.pooled_caps.append((alias, m.winsorize_lower, m.winsorize_upper))
        out.cap_names[(m.name, z)] = alias
    if lo is not None or hi is not None:
        out.fixed[alias] = (lo, hi)


def _days(request: MomentsRequest) -> Cte:
    ts = identifier("timestamp")
    return (
        "days",
        "SELECT CAST(first_ts AS DATE) AS day FROM exposed "
        f"UNION SELECT CAST({ts} AS DATE) AS day FROM {identifier(request.table('events'))} "
        f"WHERE {ts} >= (SELECT MIN(first_ts) FROM exposed)",
    )


def _exposed_days() -> Cte:
    return (
        "exposed_days",
        "SELECT e.*, d.day, CAST(d.day AS TIMESTAMP) + INTERVAL '1' DAY AS cutoff "
        "FROM exposed e JOIN days d ON d.day >= CAST(e.first_ts AS DATE)",
    )


def _event_join(request: MomentsRequest, values: _Values) -> list[str]:
    """Conditions joining a unit (u) to its events (ev): a pre-filter on event and time."""
    ts = identifier("timestamp")
    b = values.units
    on = [f"ev.{identifier('unit_id')} = u.unit_id"]
    on.append(f"ev.{identifier('event')} IN ({', '.join(literal(e) for e in sorted(b.events))})")
    on += bounds(b.windows, f"ev.{ts}", "u.first_ts")
    if request.day and not values.sparse and not b.total_after_exposure:
        on.append(f"ev.{ts} < u.cutoff")
    return on


def _daily_changes(request: MomentsRequest, values: _Values, on: list[str]) -> list[Cte]:
    """By day from per-unit values (``metrics.daily``): one row per unit with a column per
    day when the windows end within ``MAX_SPAN_DAYS``, else per-unit changes."""

    def terms(column: Callable[[str], str]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        source = {a: column(c) for a, c in values.units.source.items()}
        for mc in values.columns:
            for a_i, a in enumerate(mc.names):
                col_a = capped(source, values.fixed, f"{mc.prefix}_{a}")
                out.append((mc.sum_column(a), col_a))
                for b_name in mc.names[a_i:]:
                    col_b = capped(source, values.fixed, f"{mc.prefix}_{b_name}")
                    out.append((mc.cross_column(a, b_name), f"{col_a} * {col_b}"))
        return out

    events = identifier(request.table("events"))
    b = values.units
    ts = identifier("timestamp")
    span = span_days(b.cumulative_ends)
    if _columns_per_day(request, values):
        assert span is not None
        return pivot_ctes(b.partials, b.unit_aliases, terms, events, on, ts, span)
    return daily_ctes(b.partials, b.unit_aliases, terms(lambda c: c), events, on, ts)


def columns_per_day(request: MomentsRequest) -> bool:
    """Whether the daily moments take the plan with one row per unit (``pivot_ctes``)."""
    return request.day and _columns_per_day(request, _plan_values(request))


def _columns_per_day(request: MomentsRequest, values: _Values) -> bool:
    span = span_days(values.units.cumulative_ends)
    return (
        values.sparse and request.day_plan == "auto" and span is not None and span <= MAX_SPAN_DAYS
    )


def _unit_values(request: MomentsRequest, values: _Values, base: str, on: list[str]) -> Cte:
    # Per unit (and day); variant and segment are the unit's, grouped on rather than carried
    # in aggregate states (less memory per unit).
    group = ["u.unit_id"] + (["u.day"] if request.day else [])
    carried = ["u.variant"]
    if request.segment:
        carried.append("COALESCE(CAST(u.segment AS VARCHAR), '(none)') AS segment")
    group_by = ", ".join(str(i + 1) for i in range(len(group) + len(carried)))
    join = (  # no events to join when every metric has a summary of its own
        f"LEFT JOIN {identifier(request.table('events'))} ev ON {' AND '.join(on)} "
        if values.units.events
        else ""
    )
    return (
        "unit_values",
        f"SELECT {', '.join(group + carried + values.units.values)} FROM {base} u "
        f"{join}GROUP BY {group_by}",
    )


def _winsorized(
    values: _Values, ref: dict[str, str]
) -> tuple[list[Cte], dict[str, tuple[str | None, str | None]]]:
    """``caps`` (pooled quantiles of the values, after any absolute caps) and
    ``winsorized`` (values clamped to them); ``ref`` is updated to point each capped alias
    at its clamped column. Also per alias its (lower, upper) cap columns in ``caps``."""
    capped_columns: dict[tuple[str, float | None, float | None], str] = {}
    names: dict[str, tuple[str | None, str | None]] = {}
    for alias, lo, hi in values.pooled_caps:
        key = (ref[alias], lo, hi)
        name = capped_columns.setdefault(
            key, f"{values.units.source[alias]}_w{len(capped_columns)}"
        )
        ref[alias] = name
        names[alias] = (None if lo is None else f"{name}_lo", None if hi is None else name)
    quantiles: list[str] = []
    kept = ["v.*"]
    for (expr, lo, hi), name in capped_columns.items():
        column = f"v.{expr}" if expr in values.units.source.values() else expr
        if hi is not None:
            quantiles.append(f"SHIPIT_QUANTILE({expr}, {hi!r}) AS {name}")
            column = f"LEAST({column}, c.{name})"
        if lo is not None:
            quantiles.append(f"SHIPIT_QUANTILE({expr}, {lo!r}) AS {name}_lo")
            column = f"GREATEST({column}, c.{name}_lo)"
        kept.append(f"{column} AS {name}")
    return [
        ("caps", f"SELECT {', '.join(quantiles)} FROM unit_values"),
        ("winsorized", f"SELECT {', '.join(kept)} FROM unit_values v CROSS JOIN caps c"),
    ], names


def _moments(request: MomentsRequest, values: _Values, ref: dict[str, str], source: str) -> Cte:
    sums = ["COUNT(*) AS n"]
    for mc in values.columns:
        for a_i, a in enumerate(mc.names):
            col_a = ref[f"{mc.prefix}_{a}"]
            sums.append(f"SUM({col_a}) AS {mc.sum_column(a)}")
            for b_name in mc.names[a_i:]:
                col_b = ref[f"{mc.prefix}_{b_name}"]
                sums.append(f"SUM({col_a} * {col_b}) AS {mc.cross_column(a, b_name)}")
    keys = list(request.keys)
    return (
        "moments",
        f"SELECT {', '.join(keys + sums)} FROM {source} GROUP BY {', '.join(keys)}",
    )


def _sanity(request: MomentsRequest) -> Cte:
    start = phase_start_literal(request)
    before = f"(SELECT COUNT(*) FROM phase_exposures WHERE ts < {start})" if start else "0"
    return (
        "sanity",
        "SELECT (SELECT COUNT(*) FROM first_exposures WHERE variant <> max_variant) "
        f"AS multi_variant_units, {before} AS pre_phase_exposures",
    )


def _query(ctes: list[Cte], keys: tuple[str, ...], shown: list[str]) -> str:
    """The CTEs and the final select: moments with the sanity counts and the caps."""
    # Read again only by the sanity counts: recomputed there rather than held in memory.
    inline = {"phase_exposures", "first_exposures"}
    body = ",\n".join(
        f"{name} AS {'NOT MATERIALIZED ' if name in inline else ''}({sql})" for name, sql in ctes
    )
    order = ", ".join("m." + k for k in keys)
    cap_columns = "".join(f", k.{c} AS cap__{c}" for c in shown)
    return (
        f"WITH {body}\nSELECT m.*, s.multi_variant_units, s.pre_phase_exposures{cap_columns} "
        f"FROM sanity s LEFT JOIN moments m ON 1 = 1"
        + (" CROSS JOIN caps k" if shown else "")
        + f" ORDER BY {order}"
    )


def compile_exposure_count(
    experiment: str,
    phase: int | None,
    *,
    capabilities: Capabilities = _DUCKDB,
    tables: Mapping[str, str] | None = None,
) -> str:
    """The query counting the experiment's exposure rows (``n``): a bound on its units."""
    table = (tables or {}).get("exposures", "exposures")
    where = " AND ".join(phase_filter(experiment, phase))
    return render(f"SELECT COUNT(*) AS n FROM {identifier(table)} WHERE {where}", capabilities)


def render(sql: str, capabilities: Capabilities) -> str:
    """Parse DuckDB-flavoured text and write it, pretty, for the engine's dialect.

    ``SHIPIT_QUANTILE(x, q)`` becomes the dialect's exact quantile and ``SHIPIT_FROM_HEX(h)``
    its parse of hexadecimal digits; CTE materialization hints are dropped where the dialect
    does not take them.
    """
    tree = sqlglot.parse_one(sql, read="duckdb")

    def quantile(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and str(node.this).upper() == "SHIPIT_QUANTILE":
            column, q = node.expressions
            return capabilities.quantile(column, q)
        if isinstance(node, exp.Anonymous) and str(node.this).upper() == "SHIPIT_FROM_HEX":
            return capabilities.from_hex(node.expressions[0])
        return node

    tree = tree.transform(quantile)
    if not capabilities.supports_not_materialized:
        for cte in tree.find_all(exp.CTE):
            cte.set("materialized", None)
    return tree.sql(dialect=capabilities.dialect, pretty=True)
