"""Run the compiled query on an Engine and hand back a summary per metric (``Moments`` for
the moment kinds, the kind's own summary otherwise): the bridge into stats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

from shipit.errors import InputError
from shipit.metrics.compile import (
    CompiledQuery,
    columns_per_day,
    compile_exposure_count,
    compile_moments,
)
from shipit.metrics.filters import check_properties, metric_filters
from shipit.metrics.kinds import MetricKind, SummarySource, kind_of
from shipit.metrics.request import ENTRY_WEEK, MomentsRequest
from shipit.metrics.summary import GroupKey, MetricMoments, Summary
from shipit.spec.metric import MetricDef
from shipit.stats.moments import Moments
from shipit.store.engine import Engine

__all__ = [
    "SLICE_UNITS",
    "GroupKey",
    "MetricMoments",
    "compute_moments",
    "overall_and_by",
    "plan_moments",
    "request_for",
]

# Exposures above which DuckDB computes daily moments slice by slice of units: the per-unit
# running values of the daily plan need memory in proportion to the units, while slices
# only cost one more scan of the events each (3M demo units: 4.7 GB peak in one slice,
# 2.2 GB in slices of 1M, the same CPU time). Under a memory limit, slices are smaller:
# DAILY_BYTES_PER_UNIT of the limit per unit (about twice what the demo's units use).
SLICE_UNITS = 2_000_000
DAILY_BYTES_PER_UNIT = 3_000
# The plan with one row per unit and a column per day (metrics.daily.pivot_ctes) holds
# less per unit (3M demo units: 3.4 GB peak in one slice, 2.5 GB in two, about 600 bytes
# a unit) and its extra slices cost a scan each: larger slices of it.
COLUMNS_SLICE_UNITS = 5_000_000
COLUMNS_BYTES_PER_UNIT = 1_500


def plan_moments(
    engine: Engine,
    experiment_key: str,
    phase: int | None,
    variants: Sequence[str],
    metrics: Sequence[MetricDef],
    *,
    by: str | None = None,
    phase_start: datetime | None = None,
    tables: Mapping[str, str] | None = None,
    unit_slice: tuple[int, int] | None = None,
    cap_values: Mapping[tuple[str, str], float | None] | None = None,
) -> CompiledQuery:
    """The moments query ``compute_moments`` would run (for ``--show-sql``).

    By day, winsorized metrics need the whole period's caps: without ``cap_values`` they
    are computed first (one more round trip, over the winsorized metrics only).
    """
    request = request_for(
        engine,
        experiment_key,
        phase,
        variants,
        metrics,
        by=by,
        phase_start=phase_start,
        tables=tables,
        cap_values=cap_values,
    )
    return compile_moments(replace(request, unit_slice=unit_slice), engine.capabilities)


def request_for(
    engine: Engine,
    experiment_key: str,
    phase: int | None,
    variants: Sequence[str],
    metrics: Sequence[MetricDef],
    *,
    by: str | None = None,
    phase_start: datetime | None = None,
    tables: Mapping[str, str] | None = None,
    cap_values: Mapping[tuple[str, str], float | None] | None = None,
) -> MomentsRequest:
    """The request for these metrics on ``engine``: where the segment attribute lives,
    and by day the whole period's caps (computed first when not given)."""
    t = {"exposures": "exposures", "units": "units", "events": "events", **(tables or {})}
    if any(True for m in metrics for _ in metric_filters(m)):
        check_properties(metrics, engine.columns(t["events"]))
    segment_in: Any = "exposures"
    if by not in (None, "day"):
        assert by is not None
        if by in (engine.columns(t["exposures"]) or {}):
            segment_in = "exposures"
        elif by in (engine.columns(t["units"]) or {}):
            segment_in = "units"
        elif by == ENTRY_WEEK:
            segment_in = "entry"
        else:
            raise InputError(
                f"segment {by!r} is neither an exposures attribute nor a units column "
                f"(nor {ENTRY_WEEK!r}, the week of first exposure)"
            )
    if by == "day" and cap_values is None:
        cap_values = _period_caps(
            engine, experiment_key, phase, variants, metrics, phase_start, tables
        )
    return MomentsRequest(
        experiment_key,
        phase,
        tuple(variants),
        tuple(metrics),
        by=by,
        segment_in=segment_in,
        phase_start=phase_start,
        tables=tables,
        cap_values=cap_values,
    )


def compute_moments(
    engine: Engine,
    experiment_key: str,
    phase: int | None,
    variants: Sequence[str],
    metrics: Sequence[MetricDef],
    *,
    by: str | None = None,
    phase_start: datetime | None = None,
    tables: Mapping[str, str] | None = None,
    slice_units: int | None = None,
    cap_values: Mapping[tuple[str, str], float | None] | None = None,
) -> MetricMoments:
    """A summary of every metric per variant (and segment or day): one engine round trip
    for all moment metrics except by day (see below), and any query a kind of its own needs.

    ``by`` is None, ``"day"`` (cumulative to the end of each UTC day) or a segment attribute
    of the exposures or units table. Units exposed to several variants are excluded and
    counted; with ``phase_start``, earlier exposures are dropped and counted.

    By day, winsorized metrics are capped at the whole period's pooled caps on every day
    (``cap_values`` as ``MetricMoments.caps`` of the query without ``by`` gives them, else
    they are computed first), and on engines with unit slices more than ``slice_units``
    exposures are computed in slices of units whose moments are added (one round trip per
    slice); by default ``SLICE_UNITS``, fewer under the engine's memory limit.
    """
    request = request_for(
        engine,
        experiment_key,
        phase,
        variants,
        metrics,
        by=by,
        phase_start=phase_start,
        tables=tables,
        cap_values=cap_values,
    )
    caps = engine.capabilities
    k = 1
    if request.day and caps.supports_unit_slices:
        if slice_units is not None:
            size = slice_units
        elif columns_per_day(request):
            size = _slice_units(engine, COLUMNS_BYTES_PER_UNIT, COLUMNS_SLICE_UNITS)
        else:
            size = _slice_units(engine)
        k = -(-_exposures(engine, experiment_key, phase, tables) // max(1, size))
    if k <= 1:
        plan = compile_moments(request, caps)
        whole = _read(plan, engine.query(plan.sql).to_pydict(), list(variants))
    else:
        parts = []
        for i in range(k):
            plan = compile_moments(replace(request, unit_slice=(i, k)), caps)
            parts.append(engine.query(plan.sql).to_pydict())
        whole = _read(plan, _add_days(parts), list(variants))
        whole = replace(
            whole, sql=f"-- {k} slices of units, their sums added; the last:\n{plan.sql}"
        )
    return _summaries(engine, request, whole)


def overall_and_by(
    engine: Engine,
    experiment_key: str,
    phase: int | None,
    variants: Sequence[str],
    metrics: Sequence[MetricDef],
    by: str,
    *,
    phase_start: datetime | None = None,
    tables: Mapping[str, str] | None = None,
) -> tuple[MetricMoments, MetricMoments]:
    """The moments overall and by segment attribute ``by`` (as ``compute_moments`` gives
    them), from one pass over the events where that is exact: every exposed unit has one
    segment (an exposures attribute or the entry week, each unit keeping that of its first
    exposure) and every summary is ``Moments``, so each variant's overall moments are the
    sums over its segments (caps and sanity counts are pooled in both). Else two queries.
    """
    request = request_for(engine, experiment_key, phase, variants, metrics, by=by, tables=tables)
    options: dict[str, Any] = {"phase_start": phase_start, "tables": tables}
    segments = compute_moments(engine, experiment_key, phase, variants, metrics, by=by, **options)
    pooled = (
        segments.over_segments(variants) if request.segment_in in ("exposures", "entry") else None
    )
    if pooled is None:
        pooled = compute_moments(engine, experiment_key, phase, variants, metrics, **options)
    return pooled, segments


def _slice_units(
    engine: Engine, per_unit: int = DAILY_BYTES_PER_UNIT, most: int = SLICE_UNITS
) -> int:
    """Units per slice of the daily plan: ``most``, or fewer when the engine says its
    memory limit and that is small, ``per_unit`` bytes of it per unit (never below 100k)."""
    limit = getattr(engine, "memory_limit", None)
    budget = limit() if callable(limit) else None
    if not budget:
        return most
    return max(100_000, min(most, int(budget) // per_unit))


def _summaries(engine: Engine, request: MomentsRequest, whole: MetricMoments) -> MetricMoments:
    """Every metric's summary from its kind, in the order of the request's metrics."""
    moments = {name: m for name, m in whole.metrics.items() if isinstance(m, Moments)}
    source = SummarySource(engine, request, whole.groups, moments)
    by_kind: dict[str, tuple[MetricKind, list[MetricDef]]] = {}
    for m in request.metrics:
        kind = kind_of(m)
        by_kind.setdefault(kind.name, (kind, []))[1].append(m)
    found: dict[str, Summary] = {}
    for kind, defs in by_kind.values():
        found.update(kind.summarize(source, defs))
    return replace(whole, metrics={m.name: found[m.name] for m in request.metrics})


def _period_caps(
    engine: Engine,
    experiment_key: str,
    phase: int | None,
    variants: Sequence[str],
    metrics: Sequence[MetricDef],
    phase_start: datetime | None,
    tables: Mapping[str, str] | None,
) -> Mapping[tuple[str, str], float]:
    """The whole period's caps of the winsorized metrics (none: no round trip)."""
    capped = [m for m in metrics if m.winsorize is not None]
    if not capped:
        return {}
    return compute_moments(
        engine, experiment_key, phase, variants, capped, phase_start=phase_start, tables=tables
    ).caps


def _exposures(
    engine: Engine, experiment_key: str, phase: int | None, tables: Mapping[str, str] | None
) -> int:
    """Exposure rows of the experiment (phase): an upper bound on its units."""
    sql = compile_exposure_count(
        experiment_key, phase, capabilities=engine.capabilities, tables=tables
    )
    return int(engine.query(sql).to_pydict()["n"][0] or 0)


def _add_days(parts: list[dict[str, list[Any]]]) -> dict[str, list[Any]]:
    """Cumulative daily sums of disjoint slices of units, added per (variant, day).

    Every variant gets every day any slice has (slices see different days); a slice without
    a row on some day holds its last earlier sums (0 before its first). Like the query, the
    result has a row only where n > 0, and the sanity counts even when it has none.
    """
    names = [c for c in parts[0] if c not in ("variant", "day", *_SANITY)]
    rows = [
        {
            (v, d): np.array([part[c][i] or 0.0 for c in names], dtype=np.float64)
            for i, (v, d) in enumerate(zip(part["variant"], part["day"], strict=True))
            if v is not None
        }
        for part in parts
    ]
    variants = sorted({v for r in rows for v, _ in r})
    days = sorted({d for r in rows for _, d in r})
    total = {(v, d): np.zeros(len(names)) for v in variants for d in days}
    for part_rows in rows:
        for v in variants:
            last = np.zeros(len(names))
            for d in days:
                last = part_rows.get((v, d), last)
                total[(v, d)] += last
    n = names.index("n")
    keys = [key for key, sums in total.items() if sums[n] > 0]
    sanity = {c: sum(int(p[c][0] or 0) for p in parts if p[c]) for c in _SANITY}
    if not keys:
        empty: dict[str, list[Any]] = {c: [None] for c in ("variant", "day", *names)}
        return empty | {c: [k] for c, k in sanity.items()}
    out: dict[str, list[Any]] = {"variant": [k[0] for k in keys], "day": [k[1] for k in keys]}
    for j, c in enumerate(names):
        out[c] = [float(total[key][j]) for key in keys]
    return out | {c: [k] * len(keys) for c, k in sanity.items()}


_SANITY = ("multi_variant_units", "pre_phase_exposures")


def _read(plan: CompiledQuery, result: dict[str, list[Any]], variants: list[str]) -> MetricMoments:
    """Reshape the wide result into one Moments per metric, every variant in every cell."""
    rows = len(result.get("n", []))
    multi = int(result["multi_variant_units"][0] or 0) if rows else 0
    pre = int(result["pre_phase_exposures"][0] or 0) if rows else 0
    present = [i for i in range(rows) if result["variant"][i] is not None]
    cells: list[tuple[str | None, str | None]] = []
    keys = [GroupKey.of_row(result, plan.keys, i) for i in present]
    for key in keys:
        cell = (key.segment, key.day)
        if cell not in cells:
            cells.append(cell)
    if not cells:
        cells = [(None, None)] if plan.keys == ("variant",) else []
    cells.sort(key=lambda c: (c[0] or "", c[1] or ""))
    groups = tuple(GroupKey(v, s, d) for s, d in cells for v in variants)
    if plan.keys != ("variant",):
        groups = tuple(
            sorted(groups, key=lambda g: (g.segment or "", g.day or "", variants.index(g.variant)))
        )
    index = {g: k for k, g in enumerate(groups)}
    where = np.array([index[key] for key in keys], dtype=np.int64)
    labels = [g.label for g in groups]
    n = np.zeros(len(groups))
    n[where] = np.asarray([result["n"][i] for i in present], dtype=np.float64)
    out: dict[str, Summary] = {}
    for mc in plan.columns:
        k = len(mc.names)
        sums = np.zeros((len(groups), k))
        cross = np.zeros((len(groups), k, k))
        for a_i, a in enumerate(mc.names):
            sums[where, a_i] = _column(result, mc.sum_column(a), present)
            for b_i, b in enumerate(mc.names):
                cross[where, a_i, b_i] = _column(result, mc.cross_column(a, b), present)
        out[mc.metric] = Moments.from_sums(labels, mc.names, n, sums, cross)
    caps = {
        key: float(result[column][0])
        for key, column in plan.caps.items()
        if rows and result[column][0] is not None
    }
    return MetricMoments(out, groups, multi, pre, plan.sql, caps)


def _column(result: dict[str, list[Any]], name: str, rows: list[int]) -> np.ndarray:
    values = result[name]
    return np.asarray([values[i] if values[i] is not None else 0.0 for i in rows], dtype=np.float64)
