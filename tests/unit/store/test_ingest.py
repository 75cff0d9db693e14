"""The ingestion log: keys accepted once (inside a batch and across batches), bad rows and
too many property columns refused before anything is logged, and a drain that crashed
between the store's commit and the log's clean-up resumes without storing a row twice."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from shipit.errors import DataError, InputError
from shipit.store.duckdb import DuckDBEngine
from shipit.store.ingest import Drainer, IngestLog, WalIngest, log_path_for
from shipit.store.loaders import load


def events(ids: list[int | None], **props: list[Any]) -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "event_id": [None if i is None else f"e{i}" for i in ids],
            "unit_id": [f"u{(i or 0) % 3}" for i in ids],
            "event": ["buy"] * n,
            "timestamp": ["2026-11-01T10:00:00+01:00"] * n,
            "value": [float(i or 0) for i in ids],
            **props,
        }
    )


def open_wal(path: Path, limit: int = 64) -> tuple[DuckDBEngine, WalIngest]:
    engine = DuckDBEngine(path)
    return engine, WalIngest(engine, threading.Lock(), max_properties=limit, interval=0.05)


def stored(engine: DuckDBEngine, sql: str = "SELECT event_id FROM events") -> list[Any]:
    return sorted(r[0] for r in engine.con.execute(sql).fetchall())


def test_keys_are_accepted_once_and_rows_without_a_key_always(tmp_path: Path) -> None:
    engine, wal = open_wal(tmp_path / "s.duckdb")
    first = wal.append("events", events([1, 2, 2, 3, None]))
    again = wal.append("events", events([3, 4, None]))
    assert (first.received, first.stored, first.duplicates) == (5, 4, 1)
    assert (again.received, again.stored) == (3, 2)
    wal.flush()
    assert stored(engine, "SELECT coalesce(event_id, '-') FROM events") == [
        "-", "-", "e1", "e2", "e3", "e4"
    ]  # fmt: skip
    # Stored in UTC, as a direct load stores it.
    hours = engine.con.execute("SELECT DISTINCT hour(timestamp) FROM events").fetchall()
    assert hours == [(9,)]
    wal.close()
    engine.close()


def test_a_bad_row_is_named_and_nothing_is_logged(tmp_path: Path) -> None:
    engine, wal = open_wal(tmp_path / "s.duckdb")
    bad = events([1, 2])
    bad = bad.set_column(3, "timestamp", pa.array(["2026-11-01", "yesterday"]))
    with pytest.raises(DataError, match="row 2: timestamp yesterday"):
        wal.append("events", bad)
    assert wal.pending()["batches"] == 0
    # The key of the refused row was not taken: it can be sent again, fixed.
    assert wal.append("events", events([1, 2])).stored == 2
    wal.close()
    engine.close()


def test_a_property_mixing_types_across_batches_is_refused(tmp_path: Path) -> None:
    engine, wal = open_wal(tmp_path / "s.duckdb")
    wal.append("events", events([1], plan=[3.0]))
    with pytest.raises(DataError, match="plan pro is not a valid DOUBLE"):
        wal.append("events", events([2], plan=["pro"]))
    wal.flush()
    assert engine.columns("events")["plan"] == "DOUBLE"  # type: ignore[index]
    wal.close()
    engine.close()


def test_new_property_columns_are_bounded(tmp_path: Path) -> None:
    engine, wal = open_wal(tmp_path / "s.duckdb", limit=2)
    wal.append("events", events([1], a=["x"], b=["y"]))
    wal.append("events", events([2], a=["x"]))  # known ones stay fine
    with pytest.raises(InputError, match="new property 'c' would make 3 property columns"):
        wal.append("events", events([3], c=["z"]))
    wal.close()
    engine.close()
    # The bound holds across a restart (columns logged but not drained count too).
    engine, wal = open_wal(tmp_path / "s.duckdb", limit=2)
    with pytest.raises(InputError, match="'c'"):
        wal.append("events", events([4], c=["z"]))
    wal.close()
    engine.close()


def test_a_drain_killed_after_the_store_commit_stores_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    engine = DuckDBEngine(path)
    lock = threading.Lock()
    log = IngestLog(log_path_for(str(path)))
    log.append("events", events([1, 2]))
    log.append("events", events([3]))
    drainer = Drainer(log, engine, lock, max_rows=2)  # not started: drained by hand
    # The store commits the first batch with its log position; the process then "dies"
    # before the log forgets it.
    log.forget = lambda through: None  # type: ignore[method-assign]
    assert drainer.drain_once() == 2
    log.close()
    engine.close()
    engine = DuckDBEngine(path)
    log = IngestLog(log_path_for(str(path)))
    assert log.pending()["batches"] == 2  # both still logged
    drainer = Drainer(log, engine, lock)
    assert drainer.flush() == 2
    assert stored(engine) == ["e1", "e2", "e3"]
    assert log.pending()["batches"] == 0
    log.close()
    engine.close()


def test_keys_stored_before_the_log_existed_stay_unique(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    engine = DuckDBEngine(path)
    load(engine, "events", events([1, 2]))
    wal = WalIngest(engine, threading.Lock(), max_properties=8)
    assert wal.append("events", events([2, 3])).stored == 1
    wal.close()
    assert stored(engine) == ["e1", "e2", "e3"]
    engine.close()


def test_exposures_are_stored_once_by_their_identity(tmp_path: Path) -> None:
    engine, wal = open_wal(tmp_path / "s.duckdb")
    rows = pa.table(
        {
            "experiment": ["x", "x", "x"],
            "phase": [1, 1, 2],
            "unit_id": ["u1", "u1", "u1"],
            "variant": ["a", "a", "a"],
            "timestamp": ["2026-11-01T00:00:00Z"] * 3,
        }
    )
    assert wal.append("exposures", rows).stored == 2
    assert wal.append("exposures", rows).stored == 0
    wal.flush()
    got = engine.con.execute("SELECT phase FROM exposures ORDER BY phase").fetchall()
    assert got == [(1,), (2,)]
    wal.close()
    engine.close()


class _Backlog:
    """A log whose backlog is given: ``rows`` pending, the oldest ``age`` seconds old."""

    def __init__(self, rows: int, age: float) -> None:
        self.rows, self.age = rows, age

    def backlog(self, after: int) -> tuple[int, float]:
        import time

        return self.rows, time.time() - self.age


class _Waits:
    """Stands for the stop event: records each wait and makes the backlog age by it."""

    def __init__(self, log: _Backlog, grow: int) -> None:
        self.log, self.grow = log, grow
        self.waits: list[float] = []

    def is_set(self) -> bool:
        return False

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.log.age += seconds
        self.log.rows += self.grow
        return False


@pytest.mark.parametrize(
    ("rows", "grow", "waits"),
    [
        (0, 0, 1),  # nothing pending: back to draining after one interval
        (2_000, 2_000, 1),  # light traffic (10k rows/s): the interval is the lag
        (20_000, 20_000, 6),  # 100k rows/s: gathers a row group (122,880 rows)
        (130_000, 0, 1),  # a row group is already there
    ],
)
def test_the_drain_waits_for_a_row_group_only_under_heavy_traffic(
    tmp_path: Path, rows: int, grow: int, waits: int
) -> None:
    engine, wal = open_wal(tmp_path / "s.duckdb")
    drainer = Drainer(wal.log, engine, threading.Lock(), interval=0.2, gather=2.0)
    log = _Backlog(rows, 0.0)
    stop = _Waits(log, grow)
    drainer.log, drainer._stop = log, stop  # type: ignore[assignment]
    drainer._gather()
    assert len(stop.waits) == waits
    assert sum(stop.waits) <= 2.0 + 1e-9
    wal.close()
    engine.close()
