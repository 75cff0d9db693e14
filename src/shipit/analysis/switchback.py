"""Switchback analysis from the store: the (region, interval) block is the unit.

Each block's outcome is the metric's total over its events after the burn-in (events in
the first ``burn_in_minutes`` of an interval still carry the previous variant's effect),
summed in the engine; blocks of each variant are then compared as independent units
(Welch's t-test on the block totals). Blocks without events count as 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import numpy as np

from shipit.analysis.designs import design_metrics
from shipit.assign.spec_designs import switchback_schedule
from shipit.errors import DataError, InputError
from shipit.spec.design import SwitchbackDesign
from shipit.spec.experiment import Experiment
from shipit.spec.metric import MetricDef
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments
from shipit.stats.results import ComparisonResult
from shipit.store.engine import Engine
from shipit.store.sql import identifier, literal

__all__ = ["SwitchbackEffect", "analyze_switchback", "block_totals_sql", "switchback_end"]

_ALL = "all"


@dataclass(frozen=True)
class SwitchbackEffect:
    """One metric, one variant against control, over time blocks (n counts blocks)."""

    metric: str
    variant: str
    blocks_control: int
    blocks_variant: int
    result: ComparisonResult

    def record(self) -> dict[str, Any]:
        """A JSON-ready row."""
        return {
            "metric": self.metric,
            "variant": self.variant,
            "blocks_control": self.blocks_control,
            "blocks_variant": self.blocks_variant,
            **self.result.records()[0],
        }


def block_totals_sql(
    metric: MetricDef, design: SwitchbackDesign, start: datetime, table: str = "events"
) -> str:
    """Per (region, interval) the metric's total over events after the burn-in (DuckDB)."""
    if metric.event is None or metric.aggregation not in ("sum", "count") or metric.where:
        raise InputError(
            f"metric {metric.name!r}: a switchback analysis sums or counts one event "
            "without filters"
        )
    ts = f"ev.{identifier('timestamp')}"
    offset = f"(epoch({ts}) - epoch(TIMESTAMP {literal(start.isoformat(sep=' '))}))"
    period = design.interval_hours * 3600.0
    region = f"CAST(ev.{identifier(design.by)} AS VARCHAR)" if design.by else literal(_ALL)
    value = "1" if metric.aggregation == "count" else f"ev.{identifier(metric.value)}"
    return (
        f"SELECT {region} AS region, CAST(FLOOR({offset} / {period!r}) AS BIGINT) AS slice, "
        f"COALESCE(SUM({value}), 0) AS total FROM {identifier(table)} ev "
        f"WHERE ev.{identifier('event')} = {literal(metric.event)} AND {offset} >= 0 "
        f"AND {offset} - FLOOR({offset} / {period!r}) * {period!r} "
        f">= {design.burn_in_minutes * 60.0!r} GROUP BY 1, 2"
    )


def analyze_switchback(
    engine: Engine,
    experiment: Experiment,
    end: datetime,
    *,
    regions: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    since: datetime | None = None,
) -> list[SwitchbackEffect]:
    """Block-level effects of a switchback experiment over the schedule's intervals that
    end by ``end`` (and, with ``since``, start at or after it: a phase's start);
    ``regions`` default to those seen in the events (one when no ``by``)."""
    design = experiment.design
    if not isinstance(design, SwitchbackDesign):
        raise InputError(f"experiment {experiment.key!r} does not have a switchback design")
    if design.start is None and experiment.start is None:
        raise InputError("a switchback analysis needs design.start or the experiment's start")
    defs = design_metrics(experiment, metrics)
    data = {
        m.name: engine.query(block_totals_sql(m, design, _start(experiment))).to_pydict()
        for m in defs
    }
    seen = sorted({r for d in data.values() for r in d["region"]})
    names = list(regions) if regions is not None else (seen or [_ALL])
    schedule = switchback_schedule(experiment, names, _start(experiment), end)
    whole = int((end - schedule.start) // schedule.period)  # complete intervals only
    first = 0
    if since is not None and since.replace(tzinfo=None) > schedule.start:
        first = -(-(since.replace(tzinfo=None) - schedule.start) // schedule.period)
    if whole - first < 1:
        raise DataError(f"no complete switchback interval between {schedule.start} and {end}")
    variants = list(experiment.variant_keys)
    arm = np.asarray(schedule.variants)[schedule.index[:, first:whole]].reshape(-1)
    control = experiment.control_variant
    out = []
    for m in defs:
        totals = np.zeros((len(names), whole - first))
        index = {r: i for i, r in enumerate(names)}
        d = data[m.name]
        for r, k, t in zip(d["region"], d["slice"], d["total"], strict=True):
            if r in index and first <= k < whole:
                totals[index[r], int(k) - first] += float(t)
        moments = Moments.from_arrays(arm, {"y": totals.reshape(-1)}, labels=variants)
        c = variants.index(control)
        for v, variant in enumerate(variants):
            if variant == control:
                continue
            result = compare(
                moments.take([c]), moments.take([v]), "mean", alpha=experiment.analysis.alpha
            )
            out.append(
                SwitchbackEffect(
                    m.name,
                    variant,
                    int(np.sum(arm == control)),
                    int(np.sum(arm == variant)),
                    result,
                )
            )
    return out


def switchback_end(
    engine: Engine, exp: Experiment, tables: Mapping[str, str] | None = None
) -> datetime:
    """The end of the analysed schedule: the spec's end day, else the last event's time."""
    if exp.end is not None:
        return datetime.combine(exp.end, time()) + timedelta(days=1)
    events = (tables or {}).get("events", "events")
    sql = f"SELECT MAX({identifier('timestamp')}) AS last FROM {identifier(events)}"
    got = engine.query(sql).to_pydict()
    last = got["last"][0] if got["last"] else None
    if last is None:
        raise DataError(f"experiment {exp.key!r}: no events to analyse the switchback on")
    return (last.replace(tzinfo=None) if isinstance(last, datetime) else last) + timedelta(
        microseconds=1
    )


def _start(experiment: Experiment) -> datetime:
    design = experiment.design
    assert isinstance(design, SwitchbackDesign)
    if design.start is not None:
        return design.start
    assert experiment.start is not None
    return datetime.combine(experiment.start, datetime.min.time())
