"""The demo end to end: a built-in scenario registered, started, stored and analysed.

Scenario data is generated chunk by chunk and written to a DuckDB store, so that 10M
users never sit in memory at once; timestamps are moved so the experiment starts when its
registry phase does. Every scenario is assigned by ``shipit.assign`` with the registered
experiment's salt and weights: the plainly randomized ones (ecommerce, three-models) by the
live hash, as ``shipit assign`` would; the recommender by the offline stratified design
(``shipit.assign.designs.stratified``) on each unit's tenure band.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from queue import Empty, Queue
from typing import Any, TypeVar

import numpy as np

from shipit.analysis import analyze_registered
from shipit.assign import Assigner
from shipit.assign.designs import stratified
from shipit.errors import InputError
from shipit.registry import open_registry
from shipit.registry.analyses import AnalysisRepository
from shipit.result.model import Analysis
from shipit.result.schema import to_json
from shipit.sim import iter_chunks, scenario
from shipit.sim.storage import experiment_for, write_chunk
from shipit.spec.experiment import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import bulk_load

__all__ = ["DemoResult", "experiment_for", "run_demo"]

T = TypeVar("T")
STORE_FILE = "store.duckdb"
DUCKDB_MEMORY_MB = 4608
REGISTRY_FILE = "registry.db"


@dataclass(frozen=True)
class DemoResult:
    """What the demo made: the analysis and where its files are."""

    analysis: Analysis
    experiment: Experiment
    store: Path
    registry: Path
    design: str = ""


def run_demo(
    name: str = "recommender",
    n_users: int = 100_000,
    out: Path = Path("shipit-demo"),
    *,
    seed: int = 0,
    movielens: Path | None = None,
    chunk_size: int = 500_000,
    progress: Callable[[int, int], None] | None = None,
    stage: Callable[[str], None] | None = None,
) -> DemoResult:
    """Register, start, store and analyse one scenario under ``out`` (replacing a former run),
    and save the analysis in the registry; ``progress`` counts the users stored, ``stage``
    is told each analysis step."""
    if n_users < 100:
        raise InputError(f"--users must be at least 100, got {n_users}")
    info = scenario(name, movielens=movielens).info()
    experiment = experiment_for(info)
    out.mkdir(parents=True, exist_ok=True)
    store_path, registry_path = out / STORE_FILE, out / REGISTRY_FILE
    for old in (store_path, registry_path, out / (STORE_FILE + ".wal")):
        old.unlink(missing_ok=True)
    reg = open_registry(f"sqlite:///{registry_path}")
    engine = _open(store_path)
    try:
        reg.create(experiment, actor="shipit-demo")
        record = reg.start(experiment.key, actor="shipit-demo")
        assert record.phase is not None
        started = record.phase.started_at.astimezone(UTC).replace(tzinfo=None, microsecond=0)
        shift = started + timedelta(seconds=1) - info.start.to_pydatetime()
        assign, design = _design(name, record.experiment)
        chunks = iter_chunks(
            name,
            n_users,
            seed=seed,
            chunk_size=chunk_size,
            progress=progress,
            movielens=movielens,
            assign=assign,
        )
        # Into empty tables: rows go in directly (committed in steps to bound memory, taken
        # out again on failure) and keys are checked at the end.
        with bulk_load(engine) as bulk:
            for chunk in ahead(chunks):
                write_chunk(bulk, experiment.key, record.phase.number, chunk, shift)
            if stage is not None:
                stage("storing: checking keys and committing")
        # A fresh connection for the analysis: the load's buffers are let go.
        engine.close()
        engine = _open(store_path)
        analysis = analyze_registered(
            experiment.key,
            engine,
            reg,
            true_effects=info.true_effects,
            true_effects_absolute=tuple(sorted(info.absolute)),
            progress=None if stage is None else (lambda step: stage(f"analysing: {step}")),
        )
        # Saved as POST /v1/experiments/KEY/analyses saves it, so that `shipit serve` on the
        # demo's registry shows the verdict.
        if stage is not None:
            stage("saving the analysis in the registry")
        AnalysisRepository(reg.engine).save(experiment.key, to_json(analysis), actor="shipit-demo")
    finally:
        engine.close()
        reg.close()
    return DemoResult(analysis, experiment, store_path, registry_path, design)


def ahead(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """``items``, each made in a background thread while the caller uses the one before.

    Generating a chunk (numpy) and storing the previous one (DuckDB) both release the GIL,
    so on two cores the two overlap; at most ``depth`` chunks wait, which bounds memory.
    An error in the thread is raised here; stopping early lets the thread finish.
    """
    queue: Queue[tuple[bool, Any]] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                queue.put((True, item))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            queue.put((False, exc))
            return
        queue.put((False, None))

    worker = threading.Thread(target=produce, name="demo-generate", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = queue.get()
            if not ok:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            with suppress(Empty):
                queue.get(timeout=0.1)
        worker.join()


def _open(path: Path) -> DuckDBEngine:
    """The demo's store, its memory capped so that the generator's chunks fit beside it.

    ``DUCKDB_MEMORY_MB`` (4.5 GB), or half the machine's memory where that is less: the
    10M-user run then stays under 6 GB in all (at 4 GB its segment query ran out of
    memory). Under the cap DuckDB spills what it can to disk, results need no insertion
    order (every query orders its own), and the daily moments are computed in slices of
    units that fit it (``metrics.run.COLUMNS_BYTES_PER_UNIT`` for the demo's windows).
    """
    engine = DuckDBEngine(path)
    engine.execute("SET enable_progress_bar = false")
    engine.execute("SET preserve_insertion_order = false")
    engine.execute(f"SET memory_limit = '{min(DUCKDB_MEMORY_MB, _memory_mb() // 2)}MB'")
    return engine


def _memory_mb() -> int:
    """Physical memory in MB (4 GB where the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20)
    except (ValueError, OSError, AttributeError):
        return 4096


def _design(name: str, experiment: Experiment) -> tuple[Callable[..., Any], str]:
    """How the demo's units get their variants, and that said in words."""
    if name == "recommender":
        keys, weights, salt = experiment.variant_keys, experiment.weights, experiment.hash_salt

        def design(ids: Any, strata: Any) -> Any:
            picked = stratified(ids, strata, keys, weights, salt=salt)
            order = np.argsort(np.asarray(keys))
            return order[np.searchsorted(np.asarray(keys)[order], picked)].astype(np.int64)

        return design, (
            f"assignment: shipit.assign's stratified design on tenure bands (salt {salt!r}, "
            f"weights {'/'.join(f'{w:g}' for w in weights)}; an offline cohort design, "
            "not the live hash)"
        )
    assigner = Assigner(experiment)

    def assign(ids: Any) -> Any:
        batch = assigner.assign_batch(ids)
        if np.any(batch.index < 0):
            raise InputError("the demo experiment must enrol every unit")
        return batch.index

    return assign, (
        f"assignment: shipit.assign (hash of unit id with salt {experiment.hash_salt!r}, "
        f"weights {'/'.join(f'{w:g}' for w in experiment.weights)}), as `shipit assign` gives"
    )
