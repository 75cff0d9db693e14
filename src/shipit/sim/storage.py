"""Scenarios as experiments: the spec of a scenario, and its chunks written to a store."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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

    Columns go to Arrow directly in the tables' contract types (categoricals as
    dictionaries cast to text, timestamps at microseconds, unit attributes as DOUBLE or
    VARCHAR), without building intermediate pandas frames; into a bulk load they go as
    generated rows, unchecked.
    """
    if chunk.columnar("events") is not None:
        tables = _columnar(key, phase, chunk, shift)
        for name, table in tables.items():
            if isinstance(target, BulkLoad):
                target.add_generated(name, table)
            else:
                # The checks read text, not dictionaries: decoded for a checked load.
                load(target, name, _decoded(table))
        return
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
        # Simulated events need no ids (nothing to deduplicate), and 100M unique id strings
        # would cost almost half of the write.
        "event_id": pa.nulls(len(ev), pa.string()),
        "unit_id": _text(ev["unit_id"]),
        "event": _text(ev["event"]),
        "timestamp": _time(ev["ts"], shift),
        "value": pa.array(ev["value"].to_numpy(dtype=np.float64)),
    }
    units = {
        c: _text(chunk.units[c]) if c == "unit_id" else _attribute(chunk.units[c])
        for c in chunk.units.columns
    }
    tables = {"exposures": exposures, "events": events, "units": units}
    for name, cols in tables.items():
        table = pa.table(cols)
        if isinstance(target, BulkLoad):
            target.add_generated(name, table)
        else:
            load(target, name, table)


def _columnar(key: str, phase: int, chunk: SimChunk, shift: timedelta) -> dict[str, pa.Table]:
    """A columnar chunk's tables as stored: text stays dictionary-encoded (DuckDB reads the
    codes, and 100M event rows are not turned into strings), timestamps moved by ``shift``."""
    exp, ev, units = (_table(chunk, t) for t in ("exposures", "events", "units"))
    n = exp.num_rows
    by = pa.scalar(shift, pa.duration("us"))
    exposures = {
        "experiment": pa.DictionaryArray.from_arrays(np.zeros(n, np.int8), pa.array([key])),
        "phase": pa.array(np.full(n, phase, dtype=np.int32)),
        "unit_id": exp["unit_id"],
        "variant": exp["variant"],
        "timestamp": pc.add(exp["ts"], by),
        **{c: exp[c] for c in exp.column_names if c not in ("unit_id", "variant", "ts")},
    }
    events = {
        "event_id": pa.nulls(ev.num_rows, pa.string()),
        "unit_id": ev["unit_id"],
        "event": ev["event"],
        "timestamp": pc.add(ev["ts"], by),
        "value": ev["value"],
    }
    attributes = {
        c: units[c].cast(pa.float64()) if pa.types.is_integer(units[c].type) else units[c]
        for c in units.column_names
    }
    return {
        "exposures": pa.table(exposures),
        "events": pa.table(events),
        "units": pa.table(attributes),
    }


def _table(chunk: SimChunk, name: str) -> pa.Table:
    """One of a columnar chunk's tables (its frame in Arrow when the scenario made one)."""
    table = chunk.columnar(name)
    return (
        pa.Table.from_pandas(getattr(chunk, name), preserve_index=False) if table is None else table
    )


def _decoded(table: pa.Table) -> pa.Table:
    """Dictionary columns as plain text."""
    return pa.table(
        {
            c: table[c].cast(pa.string()) if pa.types.is_dictionary(table[c].type) else table[c]
            for c in table.column_names
        }
    )


def _attribute(col: pd.Series) -> pa.Array:
    """A unit attribute as the loader would type it: numbers as DOUBLE, the rest as text."""
    values = col.to_numpy()
    if values.dtype.kind in "iufb":
        return pa.array(values.astype(np.float64))
    return _text(col)


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
