"""The demo end to end: a built-in scenario registered, started, stored and analysed.

Scenario data is generated chunk by chunk and written to a DuckDB store, so that 10M
users never sit in memory at once; timestamps are moved so the experiment starts when its
registry phase does. The scenarios randomize themselves (the recommender stratifies on
pre-period activity deciles), so the demo records their assignment as a pre-assigned design.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pandas as pd
import pyarrow as pa

from shipit.analysis import analyze_registered
from shipit.decide.model import Analysis
from shipit.errors import InputError
from shipit.registry import open_registry
from shipit.sim import ScenarioInfo, SimChunk, iter_chunks, scenario
from shipit.spec.experiment import Experiment, Variant
from shipit.spec.guardrail import Guardrail
from shipit.spec.plan import AnalysisPlan
from shipit.store.duckdb import DuckDBEngine
from shipit.store.engine import Engine
from shipit.store.loaders import load

__all__ = ["DemoResult", "experiment_for", "run_demo", "write_chunk"]

STORE_FILE = "store.duckdb"
REGISTRY_FILE = "registry.db"


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


def write_chunk(engine: Engine, key: str, phase: int, chunk: SimChunk, shift: pd.Timedelta) -> None:
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


@dataclass(frozen=True)
class DemoResult:
    """What the demo made: the analysis and where its files are."""

    analysis: Analysis
    experiment: Experiment
    store: Path
    registry: Path


def run_demo(
    name: str = "recommender",
    n_users: int = 100_000,
    out: Path = Path("shipit-demo"),
    *,
    seed: int = 0,
    movielens: Path | None = None,
    chunk_size: int = 500_000,
    progress: Callable[[int, int], None] | None = None,
) -> DemoResult:
    """Register, start, store and analyse one scenario under ``out`` (replacing a former run)."""
    if n_users < 100:
        raise InputError(f"--users must be at least 100, got {n_users}")
    info = scenario(name, movielens=movielens).info()
    experiment = experiment_for(info)
    out.mkdir(parents=True, exist_ok=True)
    store_path, registry_path = out / STORE_FILE, out / REGISTRY_FILE
    for old in (store_path, registry_path, out / (STORE_FILE + ".wal")):
        old.unlink(missing_ok=True)
    reg = open_registry(f"sqlite:///{registry_path}")
    engine = DuckDBEngine(store_path)
    engine.execute("SET enable_progress_bar = false")
    try:
        reg.create(experiment, actor="shipit-demo")
        record = reg.start(experiment.key, actor="shipit-demo")
        assert record.phase is not None
        started = record.phase.started_at.astimezone(UTC).replace(tzinfo=None)
        shift = pd.Timestamp(started).ceil("s") - info.start
        for chunk in iter_chunks(
            name,
            n_users,
            seed=seed,
            chunk_size=chunk_size,
            progress=progress,
            movielens=movielens,
        ):
            write_chunk(engine, experiment.key, record.phase.number, chunk, shift)
        analysis = analyze_registered(experiment.key, engine, reg, true_effects=info.true_effects)
    finally:
        engine.close()
        reg.close()
    return DemoResult(analysis, experiment, store_path, registry_path)
