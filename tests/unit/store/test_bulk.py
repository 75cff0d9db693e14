"""Bulk loads: several tables in one transaction, direct inserts into empty tables, keys
unique as with ``load``, all or nothing, idempotent when repeated."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipit.errors import DataError, InputError
from shipit.sim import iter_chunks
from shipit.sim.storage import write_chunk
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import bulk_load, load


def events(ids: list[int], value: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in ids],
            "unit_id": [f"u{i % 5}" for i in ids],
            "event": "buy",
            "timestamp": pd.Timestamp("2024-01-01"),
            "value": value,
        }
    )


def rows(engine: DuckDBEngine, table: str) -> list[tuple[object, ...]]:
    return engine.query(f"SELECT * FROM {table} ORDER BY ALL").to_pylist()  # type: ignore[return-value]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=20), min_size=1, max_size=4))
def test_bulk_into_empty_tables_stores_what_load_stores(parts: list[list[int]]) -> None:
    bulk_engine, load_engine = DuckDBEngine(), DuckDBEngine()
    with bulk_load(bulk_engine) as bulk:
        for part in parts:
            bulk.add("events", events(part))
    stored = sum(load(load_engine, "events", events(part)) for part in parts)
    assert rows(bulk_engine, "events") == rows(load_engine, "events")
    assert bulk.stored.get("events", 0) == stored == len({i for p in parts for i in p})


def test_units_reloaded_in_one_bulk_keep_the_last_row() -> None:
    engine = DuckDBEngine()
    with bulk_load(engine) as bulk:
        bulk.add("units", pd.DataFrame({"unit_id": ["a", "b"], "score": [1.0, 2.0]}))
        bulk.add("units", pd.DataFrame({"unit_id": ["a"], "score": [9.0]}))
    assert engine.query("SELECT * FROM units ORDER BY unit_id").to_pylist() == [
        {"unit_id": "a", "score": 9.0},
        {"unit_id": "b", "score": 2.0},
    ]


def test_a_repeated_bulk_merges_and_stores_nothing_twice() -> None:
    engine = DuckDBEngine()
    for _ in range(2):
        with bulk_load(engine) as bulk:
            bulk.add("events", events(list(range(10))))
            bulk.add("units", pd.DataFrame({"unit_id": ["u1"]}))
    assert bulk.stored == {"events": 0, "units": 1}
    assert len(rows(engine, "events")) == 10
    assert len(rows(engine, "units")) == 1


def test_a_bad_row_in_any_table_leaves_every_table_as_it_was() -> None:
    engine = DuckDBEngine()
    load(engine, "events", events([1]))
    bad = events([2]).assign(timestamp="not a time")

    def write() -> None:
        with bulk_load(engine) as bulk:
            bulk.add("units", pd.DataFrame({"unit_id": ["x"]}))
            bulk.add("events", events([3, 4]))
            bulk.add("events", bad)

    with pytest.raises(DataError, match="row 1: timestamp"):
        write()
    assert len(rows(engine, "events")) == 1
    assert engine.columns("units") is None


def test_an_error_in_the_caller_rolls_back_too() -> None:
    engine = DuckDBEngine()

    def write() -> None:
        with bulk_load(engine) as bulk:
            bulk.add("events", events([1, 2]))
            raise RuntimeError("generator failed")

    with pytest.raises(RuntimeError):
        write()
    assert engine.columns("events") is None


def test_unknown_table_and_engine_without_bulk_are_input_errors() -> None:

    def write(engine: object, table: str) -> None:
        with bulk_load(engine) as bulk:  # type: ignore[arg-type]
            bulk.add(table, events([1]))

    with pytest.raises(InputError, match="unknown table"):
        write(DuckDBEngine(), "nope")
    with pytest.raises(InputError, match="no bulk loads"):
        write(object(), "events")


def test_demo_chunks_store_the_same_in_bulk_as_load_by_load() -> None:
    via_bulk, via_load = DuckDBEngine(), DuckDBEngine()
    chunks = list(iter_chunks("ecommerce", 600, seed=2, chunk_size=250))
    shift = timedelta(days=3, microseconds=7)
    with bulk_load(via_bulk) as bulk:
        for chunk in chunks:
            write_chunk(bulk, "ecommerce", 1, chunk, shift)
    for chunk in chunks:
        write_chunk(via_load, "ecommerce", 1, chunk, shift)
    for table in ("exposures", "events", "units"):
        assert rows(via_bulk, table) == rows(via_load, table)
    first = chunks[0].events
    unit = str(first["unit_id"].iloc[0])
    stored = via_bulk.query(
        f"SELECT min(timestamp) AS ts, count(event_id) AS ids FROM events WHERE unit_id = '{unit}'"
    ).to_pylist()[0]
    mine = first[first["unit_id"] == unit]["ts"].min()
    assert stored["ts"] == (mine + shift).floor("us").to_pydatetime()
    assert stored["ids"] == 0  # simulated events are stored without ids
    assert len(rows(via_bulk, "exposures")) == 600


def test_a_load_committed_in_steps_stores_the_same_as_one_transaction() -> None:
    stepped, whole = DuckDBEngine(), DuckDBEngine()
    parts = [events(list(range(i, i + 7))) for i in range(0, 30, 5)]  # overlapping ids
    with bulk_load(stepped, commit_rows=3) as steps, bulk_load(whole) as bulk:
        for part in parts:
            bulk.add("events", part)
            steps.add("events", part)
    assert steps.commits == len(parts)  # each 7-row batch passes commit_rows=3
    assert bulk.commits == 0
    assert rows(stepped, "events") == rows(whole, "events")
    assert steps.stored == bulk.stored == {"events": 32}


def test_readers_see_the_tables_unchanged_until_the_load_ends() -> None:
    engine = DuckDBEngine()
    load(engine, "units", pd.DataFrame({"unit_id": ["kept"]}))
    reader = engine.con.cursor()

    def seen() -> tuple[object, ...]:
        tables = {r[0] for r in reader.execute("SHOW TABLES").fetchall()}
        units = reader.execute("SELECT count(*) FROM units").fetchall()[0][0]
        return "events" in tables, units

    with bulk_load(engine, commit_rows=2) as bulk:
        for i in range(5):
            bulk.add("events", events([2 * i, 2 * i + 1]))
            bulk.add("units", pd.DataFrame({"unit_id": [f"n{i}"]}))
        assert bulk.commits >= 5
        assert seen() == (False, 1)
    assert seen() == (True, 6)


def test_a_failure_after_step_commits_leaves_every_table_as_it_was() -> None:
    engine = DuckDBEngine()
    load(engine, "units", pd.DataFrame({"unit_id": ["kept"], "tier": ["gold"]}))
    exposure = pd.DataFrame(
        {
            "experiment": "x",
            "phase": 1,
            "unit_id": ["a", "b"],
            "variant": "control",
            "timestamp": "2024-01-01",
        }
    )
    load(engine, "exposures", exposure)
    engine.execute("DELETE FROM exposures")  # there, but empty: filled directly
    before = {t: (engine.columns(t), rows(engine, t)) for t in ("units", "exposures")}

    def write() -> None:
        with bulk_load(engine, commit_rows=1) as bulk:
            bulk.add("units", pd.DataFrame({"unit_id": ["new"], "tier": ["x"], "score": [1]}))
            bulk.add("exposures", exposure.assign(country="NL"))
            bulk.add("events", events([1, 2]))
            raise RuntimeError("the generator failed after three commits")

    with pytest.raises(RuntimeError, match="generator failed"):
        write()
    assert {t: (engine.columns(t), rows(engine, t)) for t in before} == before
    assert engine.columns("events") is None
    assert engine.columns("__shipit_stage_units") is None


def test_a_bad_batch_after_step_commits_is_reported_and_taken_out() -> None:
    engine = DuckDBEngine()
    bad = events([9]).assign(value="lots")

    def write() -> None:
        with bulk_load(engine, commit_rows=2) as bulk:
            for i in range(4):
                bulk.add("events", events([2 * i, 2 * i + 1]))
            bulk.add("events", bad)

    with pytest.raises(DataError, match="row 1: value lots is not a valid DOUBLE"):
        write()
    assert engine.columns("events") is None


LOAD_AND_DIE = """
import os, sys
import pandas as pd
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import bulk_load

def part(ids):
    return pd.DataFrame({"event_id": [f"e{i}" for i in ids], "unit_id": "u", "event": "buy",
                         "timestamp": "2024-01-01", "value": 1.0})

engine = DuckDBEngine(sys.argv[1])
with bulk_load(engine, commit_rows=4) as bulk:
    bulk.add("events", part([1, 2, 3, 4]))
    bulk.add("events", part([3, 4, 5, 6]))
    bulk.add("units", pd.DataFrame({"unit_id": ["new"], "score": [1.0]}))
    print(bulk.commits, flush=True)
    os._exit(137)  # killed, as by the OOM killer, after step commits
"""


def test_a_killed_load_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    engine = DuckDBEngine(store)
    load(engine, "units", pd.DataFrame({"unit_id": ["kept"]}))
    engine.close()
    run = subprocess.run(
        [sys.executable, "-c", LOAD_AND_DIE, str(store)], capture_output=True, text=True
    )
    assert run.returncode == 137, run.stderr
    assert int(run.stdout) >= 2
    engine = DuckDBEngine(store)
    assert engine.columns("events") is None
    assert rows(engine, "units") == [{"unit_id": "kept"}]
    with bulk_load(engine) as bulk:  # the load, run again, stores each row once
        bulk.add("events", events(list(range(1, 7))))
    assert [r["event_id"] for r in rows(engine, "events")] == [f"e{i}" for i in range(1, 7)]
    assert set(engine.query("SHOW TABLES").to_pydict()["name"]) == {"events", "units"}


COMMIT_FAILS = """
import resource, signal, sys
import pandas as pd
from shipit.errors import EngineError
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import bulk_load

engine = DuckDBEngine(sys.argv[1])
engine.execute("CHECKPOINT")
# Writes past the limit fail (EFBIG), as on a full disk.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    with bulk_load(engine, commit_rows=1000) as bulk:
        for i in range(40):
            bulk.add("events", pd.DataFrame({"event_id": [f"e{i}_{k}" for k in range(1000)],
                "unit_id": "u", "event": "buy", "timestamp": "2024-01-01", "value": 1.0}))
except EngineError as exc:
    print("EngineError", exc)
"""


def test_a_failing_commit_is_reported_and_stores_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    engine = DuckDBEngine(store)
    load(engine, "units", pd.DataFrame({"unit_id": ["kept"]}))
    engine.close()
    size = store.stat().st_size
    run = subprocess.run(
        [sys.executable, "-c", COMMIT_FAILS, str(store), str(size + 600_000)],
        capture_output=True,
        text=True,
    )
    assert run.stdout.startswith("EngineError loading events failed"), run.stdout + run.stderr
    engine = DuckDBEngine(store)
    assert engine.columns("events") is None
    assert rows(engine, "units") == [{"unit_id": "kept"}]
