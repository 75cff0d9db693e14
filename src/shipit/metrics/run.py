"""Run the compiled query on an Engine and hand back ``Moments``: the bridge into stats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import numpy as np

from shipit.errors import InputError
from shipit.metrics.compile import CompiledQuery, compile_exposure_count, compile_moments
from shipit.spec.metric import MetricDef
from shipit.stats.moments import Moments
from shipit.store.engine import Engine

__all__ = ["SLICE_UNITS", "GroupKey", "MetricMoments", "compute_moments", "plan_moments"]

# Exposures above which DuckDB computes daily moments slice by slice of units: the per-unit
# running values of the daily plan need memory in proportion to the units (about 7 GB for
# 2M units of the 10M-user demo), while slices only cost one more scan of the events each.
SLICE_UNITS = 2_000_000


@dataclass(frozen=True)
class GroupKey:
    """What a group of units is: its variant, and segment or day when asked for."""

    variant: str
    segment: str | None = None
    day: str | None = None

    @property
    def label(self) -> str:
        """The Moments label: ``variant``, ``variant/segment`` or ``variant@day``."""
        if self.segment is not None:
            return f"{self.variant}/{self.segment}"
        if self.day is not None:
            return f"{self.variant}@{self.day}"
        return self.variant


@dataclass(frozen=True)
class MetricMoments:
    """Moments per metric (same groups for all), plus the exposure sanity counts."""

    metrics: Mapping[str, Moments]
    groups: tuple[GroupKey, ...]
    multi_variant_units: int
    pre_phase_exposures: int
    sql: str = field(repr=False)
    # (metric, z) -> the pooled winsorizing cap of a winsorized metric (not by day).
    caps: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def __getitem__(self, metric: str) -> Moments:
        try:
            return self.metrics[metric]
        except KeyError:
            raise InputError(f"no metric {metric!r} among {list(self.metrics)}") from None


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
    """The query ``compute_moments`` would run (for ``--show-sql``).

    By day, winsorized metrics need the whole period's caps: without ``cap_values`` they
    are computed first (one more round trip, over the winsorized metrics only).
    """
    t = {"exposures": "exposures", "units": "units", **(tables or {})}
    segment_in: Any = "exposures"
    if by not in (None, "day"):
        assert by is not None
        if by in (engine.columns(t["exposures"]) or {}):
            segment_in = "exposures"
        elif by in (engine.columns(t["units"]) or {}):
            segment_in = "units"
        else:
            raise InputError(f"segment {by!r} is neither an exposures attribute nor a units column")
    if by == "day" and cap_values is None:
        cap_values = _period_caps(
            engine, experiment_key, phase, variants, metrics, phase_start, tables
        )
    return compile_moments(
        experiment_key,
        phase,
        variants,
        metrics,
        by=by,
        segment_in=segment_in,
        phase_start=phase_start,
        dialect=engine.dialect,
        tables=tables,
        unit_slice=unit_slice,
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
    slice_units: int = SLICE_UNITS,
    cap_values: Mapping[tuple[str, str], float | None] | None = None,
) -> MetricMoments:
    """Moments of every metric per variant (and segment or day), in one engine round trip
    except by day (see below).

    ``by`` is None, ``"day"`` (cumulative to the end of each UTC day) or a segment attribute
    of the exposures or units table. Units exposed to several variants are excluded and
    counted; with ``phase_start``, earlier exposures are dropped and counted.

    By day, winsorized metrics are capped at the whole period's pooled caps on every day
    (``cap_values`` as ``MetricMoments.caps`` of the query without ``by`` gives them, else
    they are computed first), and on DuckDB more than ``slice_units`` exposures are
    computed in slices of units whose moments are added (one round trip per slice).
    """
    args = (engine, experiment_key, phase, variants, metrics)
    options: dict[str, Any] = {"by": by, "phase_start": phase_start, "tables": tables}
    k = 1
    if by == "day":
        if cap_values is None:
            cap_values = _period_caps(*args, phase_start, tables)
        options["cap_values"] = cap_values
    if by == "day" and engine.dialect == "duckdb":
        k = -(-_exposures(engine, experiment_key, phase, tables) // max(1, slice_units))
    if k <= 1:
        plan = plan_moments(*args, **options)
        return _read(plan, engine.query(plan.sql).to_pydict(), list(variants))
    parts = []
    for i in range(k):
        plan = plan_moments(*args, **options, unit_slice=(i, k))
        parts.append(engine.query(plan.sql).to_pydict())
    whole = _read(plan, _add_days(parts), list(variants))
    return replace(whole, sql=f"-- {k} slices of units, their sums added; the last:\n{plan.sql}")


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
    sql = compile_exposure_count(experiment_key, phase, dialect=engine.dialect, tables=tables)
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


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _read(plan: CompiledQuery, result: dict[str, list[Any]], variants: list[str]) -> MetricMoments:
    """Reshape the wide result into one Moments per metric, every variant in every cell."""
    rows = len(result.get("n", []))
    multi = int(result["multi_variant_units"][0] or 0) if rows else 0
    pre = int(result["pre_phase_exposures"][0] or 0) if rows else 0
    present = [i for i in range(rows) if result["variant"][i] is not None]
    cells: list[tuple[str | None, str | None]] = []
    for i in present:
        cell = (
            _text(result["segment"][i]) if "segment" in plan.keys else None,
            _text(result["day"][i]) if "day" in plan.keys else None,
        )
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
    index = {(g.variant, g.segment, g.day): k for k, g in enumerate(groups)}
    where = np.array(
        [
            index[
                (
                    str(result["variant"][i]),
                    _text(result["segment"][i]) if "segment" in plan.keys else None,
                    _text(result["day"][i]) if "day" in plan.keys else None,
                )
            ]
            for i in present
        ],
        dtype=np.int64,
    )
    labels = [g.label for g in groups]
    n = np.zeros(len(groups))
    n[where] = np.asarray([result["n"][i] for i in present], dtype=np.float64)
    out: dict[str, Moments] = {}
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
