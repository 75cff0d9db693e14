"""Run the compiled query on an Engine and hand back ``Moments``: the bridge into stats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

from shipit.errors import InputError
from shipit.metrics.compile import CompiledQuery, compile_moments
from shipit.spec.metric import MetricDef
from shipit.stats.moments import Moments
from shipit.store.engine import Engine

__all__ = ["GroupKey", "MetricMoments", "compute_moments", "plan_moments"]


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
) -> CompiledQuery:
    """The query ``compute_moments`` would run (for ``--show-sql``)."""
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
) -> MetricMoments:
    """Moments of every metric per variant (and segment or day) in one engine round trip.

    ``by`` is None, ``"day"`` (cumulative to the end of each UTC day) or a segment attribute
    of the exposures or units table. Units exposed to several variants are excluded and
    counted; with ``phase_start``, earlier exposures are dropped and counted.
    """
    plan = plan_moments(
        engine,
        experiment_key,
        phase,
        variants,
        metrics,
        by=by,
        phase_start=phase_start,
        tables=tables,
    )
    result = engine.query(plan.sql).to_pydict()
    return _read(plan, result, list(variants))


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
    return MetricMoments(out, groups, multi, pre, plan.sql)


def _column(result: dict[str, list[Any]], name: str, rows: list[int]) -> np.ndarray:
    values = result[name]
    return np.asarray([values[i] if values[i] is not None else 0.0 for i in rows], dtype=np.float64)
