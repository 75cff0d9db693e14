"""Scenarios as experiments: the spec of a scenario, and its chunks written to a store."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pyarrow as pa

from shipit.sim._base import ScenarioInfo, SimChunk
from shipit.spec.experiment import Experiment, Variant
from shipit.spec.guardrail import Guardrail
from shipit.spec.plan import AnalysisPlan
from shipit.store.engine import Engine
from shipit.store.loaders import load

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


def write_chunk(engine: Engine, key: str, phase: int, chunk: SimChunk, shift: timedelta) -> None:
    """Append one chunk's exposures, events and units to the store's tables."""
    exp = chunk.exposures
    exposures = pd.DataFrame(
        {
            "experiment": key,
            "phase": phase,
            "unit_id": exp["unit_id"].astype(str),
            "variant": exp["variant"].astype(str),
            "timestamp": (exp["ts"] + shift).dt.floor("us"),
        }
    )
    for col in exp.columns:
        if col not in ("unit_id", "variant", "ts"):
            exposures[col] = exp[col].astype(str)
    ev = chunk.events
    events = pd.DataFrame(
        {
            "event_id": ev["event_id"].astype(str) if "event_id" in ev else None,
            "unit_id": ev["unit_id"].astype(str),
            "event": ev["event"].astype(str),
            "timestamp": (ev["ts"] + shift).dt.floor("us"),
            "value": ev["value"].astype(float),
        }
    )
    load(engine, "exposures", _arrow(exposures))
    load(engine, "events", _arrow(events))
    load(engine, "units", _arrow(chunk.units))


def _arrow(df: pd.DataFrame) -> pa.Table:
    out = pa.Table.from_pandas(df, preserve_index=False)
    fields = []
    for f in out.schema:
        if pa.types.is_timestamp(f.type):
            fields.append(pa.field(f.name, pa.timestamp("us")))
        elif pa.types.is_large_string(f.type) or pa.types.is_string(f.type):
            fields.append(pa.field(f.name, pa.string()))
        else:
            fields.append(f)
    return out.cast(pa.schema(fields))
