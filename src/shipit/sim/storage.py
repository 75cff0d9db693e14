"""Scenarios as experiments: the spec of a scenario, and its chunks written to a store."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from shipit.sim._base import ScenarioInfo, SimChunk
from shipit.spec.experiment import Experiment, Variant
from shipit.spec.guardrail import Guardrail
from shipit.spec.plan import AnalysisPlan
from shipit.store.engine import Engine
from shipit.store.loaders import BulkLoad, load

__all__ = ["experiment_for", "write_chunk"]


def experiment_for(info: ScenarioInfo) -> Experiment:
    """The experiment spec of a scenario: its variants, metrics, guardrails and plan."""
    guardrails = tuple(
        Guardrail(metric=g.metric, relative_margin=g.margin)
        if g.relative
        else Guardrail(metric=g.metric, margin=g.margin)
        for g in info.guardrails
    )
    guarded = {g.metric for g in info.guardrails}
    return Experiment(
        key=info.name,
        name=info.name,
        hypothesis=info.description,
        salt=info.salt,
        variants=tuple(
            Variant(key=v, weight=w) for v, w in zip(info.variants, info.weights, strict=True)
        ),
        metrics=info.metrics,
        primary_metric=info.primary,
        secondary_metrics=tuple(
            m.name for m in info.metrics if m.name != info.primary and m.name not in guarded
        ),
        guardrails=guardrails,
        analysis=AnalysisPlan(mde=info.mde, segments=info.segments, cuped=True),
    )


def write_chunk(
    target: Engine | BulkLoad, key: str, phase: int, chunk: SimChunk, shift: timedelta
) -> None:
    """Append one chunk's exposures, events and units to the store's tables.

    Columns go to Arrow directly (categoricals as dictionaries cast to text, timestamps at
    microseconds), without building intermediate pandas frames.
    """
    exp, ev = chunk.exposures, chunk.events
    n = len(exp)
    exposures = {
        "experiment": pa.array(np.full(n, key, dtype=object), pa.string()),
        "phase": pa.array(np.full(n, phase, dtype=np.int32)),
        "unit_id": _text(exp["unit_id"]),
        "variant": _text(exp["variant"]),
        "timestamp": _time(exp["ts"], shift),
    }
    for col in exp.columns:
        if col not in ("unit_id", "variant", "ts"):
            exposures[col] = _text(exp[col])
    events = {
        "event_id": _text(ev["event_id"]) if "event_id" in ev else pa.nulls(len(ev), pa.string()),
        "unit_id": _text(ev["unit_id"]),
        "event": _text(ev["event"]),
        "timestamp": _time(ev["ts"], shift),
        "value": pa.array(ev["value"].to_numpy(dtype=np.float64)),
    }
    units = {
        c: _text(chunk.units[c]) if c == "unit_id" else pa.array(chunk.units[c].to_numpy())
        for c in chunk.units.columns
    }
    tables = {"exposures": exposures, "events": events, "units": units}
    for name, cols in tables.items():
        table = pa.table(cols)
        if isinstance(target, BulkLoad):
            target.add(name, table)
        else:
            load(target, name, table)


def _text(col: pd.Series) -> pa.Array:
    """A column as Arrow text: categoricals through their (small) dictionary."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        labels = pa.array(cats.astype(str).to_numpy(dtype=object), pa.string())
        codes = pa.array(col.cat.codes.to_numpy(), mask=col.cat.codes.to_numpy() < 0)
        return pa.DictionaryArray.from_arrays(codes, labels).cast(pa.string())
    values = col.to_numpy()
    if values.dtype.kind in "iu":
        return pa.array(values).cast(pa.string())
    return pa.array(
        values.astype(str).astype(object) if values.dtype.kind != "O" else values, pa.string()
    )


def _time(col: pd.Series, shift: timedelta) -> pa.Array:
    """Timestamps moved by ``shift``, floored to microseconds."""
    values = col.to_numpy(dtype="datetime64[ns]") + np.timedelta64(shift)
    return pa.array(values.astype("datetime64[us]"))
