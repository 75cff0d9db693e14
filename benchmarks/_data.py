"""The benchmarks' generated store: exposures and events made inside DuckDB, cached.

Every column comes from ``range()`` and ``hash(row, seed, column)``, so the same size and
seed give the same data on every run, whatever the threads; nothing passes through
Python. The store is written once under a folder keyed by its size, seed and columns
(the system temp folder unless ``root`` says otherwise) and reused afterwards: delete
that folder to get the disk space back.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["export_parquet", "store"]

STORE = "store.duckdb"


def _pick(options: Sequence[str | None], column: int, seed: int) -> str:
    """SQL choosing one of ``options`` per row by its hash (NULL allowed)."""
    items = ", ".join("NULL" if o is None else f"'{o}'" for o in options)
    return f"[{items}][1 + CAST(hash(i, {seed}, {column}) % {len(options)} AS INTEGER)]"


def _uniform(column: int, seed: int) -> str:
    """SQL of a uniform in [0, 1) per row, from its hash."""
    return f"(CAST(hash(i, {seed}, {column}) % 4294967296 AS DOUBLE) / 4294967296.0)"


def _write(path: Path, n_events: int, n_units: int, events: Sequence[str],
           properties: Mapping[str, Sequence[str | None]], seed: int) -> None:  # fmt: skip
    import duckdb

    con = duckdb.connect(str(path / STORE))
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    week_us, three_weeks_us = 7 * 86400 * 10**6, 21 * 86400 * 10**6
    con.execute(
        f"""
        CREATE TABLE exposures AS
        SELECT 'bench' AS experiment, 1 AS phase, 'u' || i AS unit_id,
               CASE WHEN hash(i, {seed}, 0) % 2 = 0 THEN 'control' ELSE 'treatment' END
                 AS variant,
               TIMESTAMP '2024-01-08'
                 + to_microseconds(CAST({_uniform(1, seed)} * {week_us} AS BIGINT)) AS timestamp
        FROM range({n_units}) t(i)
        """
    )
    extra = "".join(
        f", {_pick(values, 20 + j, seed)} AS {name}"
        for j, (name, values) in enumerate(properties.items())
    )
    con.execute(
        f"""
        CREATE TABLE events AS
        SELECT 'e' || i AS event_id,
               'u' || CAST(hash(i, {seed}, 10) % {n_units} AS BIGINT) AS unit_id,
               {_pick(events, 11, seed)} AS event,
               TIMESTAMP '2024-01-01'
                 + to_microseconds(CAST({_uniform(12, seed)} * {three_weeks_us} AS BIGINT))
                 AS timestamp,
               round({_uniform(13, seed)} * 100, 2) AS value{extra}
        FROM range({n_events}) t(i)
        """
    )
    con.execute("CHECKPOINT")
    con.close()


def store(
    name: str,
    n_events: int,
    n_units: int,
    events: Sequence[str],
    properties: Mapping[str, Sequence[str | None]] | None = None,
    *,
    seed: int = 42,
    root: Path | None = None,
) -> Path:
    """The folder holding ``store.duckdb`` (tables exposures and events) for these sizes,
    seed and columns: generated on the first call, read from the cache afterwards."""
    props = dict(properties or {})
    digest = hashlib.sha1(repr((list(events), sorted(props.items()))).encode()).hexdigest()[:8]
    base = Path(root) if root is not None else Path(tempfile.gettempdir()) / "shipit-bench"
    folder = base / f"{name}-{n_events}e-{n_units}u-seed{seed}-{digest}"
    if (folder / STORE).is_file():
        return folder
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=base))
    try:
        _write(work, n_events, n_units, events, props, seed)
        os.replace(work, folder)  # whole or not at all, for a run stopped half way
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def export_parquet(folder: Path, columns: Mapping[str, str]) -> None:
    """``<table>.parquet`` beside the store for each table (its ``columns``), once."""
    import duckdb

    todo = {t: c for t, c in columns.items() if not (folder / f"{t}.parquet").is_file()}
    if not todo:
        return
    con = duckdb.connect(str(folder / STORE), read_only=True)
    for table, cols in todo.items():
        part = folder / f".{table}.parquet"
        con.execute(f"COPY (SELECT {cols} FROM {table}) TO '{part}' (FORMAT parquet)")
        os.replace(part, folder / f"{table}.parquet")
    con.close()
