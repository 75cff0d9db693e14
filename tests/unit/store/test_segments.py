"""The ingest log's segment files: a write torn by a crash is cut off and nothing
acknowledged is lost, damage elsewhere is refused, drained segments are deleted, and a log
kept by the earlier SQLite format is taken over without losing or repeating a row."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest

from shipit.store import segments
from shipit.store.accept import _to_ipc
from shipit.store.duckdb import DuckDBEngine
from shipit.store.ingest import Drainer, IngestLog, WalIngest, log_path_for


def events(ids: list[int]) -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "event_id": [f"e{i}" for i in ids],
            "unit_id": ["u"] * n,
            "event": ["buy"] * n,
            "timestamp": ["2026-11-01T10:00:00Z"] * n,
            "value": [float(i) for i in ids],
        }
    )


def stored(engine: DuckDBEngine) -> list[str]:
    return sorted(r[0] for r in engine.con.execute("SELECT event_id FROM events").fetchall())


def _segments(path: Path) -> list[Path]:
    return sorted(log_path_for(str(path)).glob("*.seg"))


def test_a_torn_last_write_is_cut_off_and_the_acknowledged_batches_stay(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    log = IngestLog(log_path_for(str(path)))
    log.append("events", events([1, 2]))
    log.append("events", events([3]))
    log.close()
    (seg,) = _segments(path)
    whole = seg.stat().st_size
    # A crash in the middle of the next write: half a record at the end, never acknowledged.
    record = segments.encode(3, "events", 1, time.time(), _to_ipc(events([4]).to_batches()[0]))
    with seg.open("ab") as f:
        f.write(record[: len(record) // 2])
    log = IngestLog(log_path_for(str(path)))
    assert seg.stat().st_size == whole
    assert log.pending()["batches"] == 2
    # The torn batch was never acknowledged: sent again, it is stored; 1-3 stay unique.
    assert log.append("events", events([3, 4])).stored == 1
    log.close()
    engine = DuckDBEngine(path)
    wal = WalIngest(engine, threading.Lock(), max_properties=8)
    wal.flush()
    assert stored(engine) == ["e1", "e2", "e3", "e4"]
    wal.close()
    engine.close()


def test_a_damaged_record_before_the_last_segment_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segments, "SEGMENT_BYTES", 1)  # a segment a commit
    path = tmp_path / "s.duckdb"
    log = IngestLog(log_path_for(str(path)))
    log.append("events", events([1]))
    log.append("events", events([2]))
    log.close()
    first, _ = _segments(path)
    data = bytearray(first.read_bytes())
    data[-5] ^= 0xFF
    first.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="bad record"):
        IngestLog(log_path_for(str(path)))


def test_drained_segments_are_deleted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segments, "SEGMENT_BYTES", 1)
    path = tmp_path / "s.duckdb"
    engine = DuckDBEngine(path)
    wal = WalIngest(engine, threading.Lock(), max_properties=8, interval=30)
    for i in range(5):
        wal.append("events", events([i]))
    assert len(_segments(path)) == 5
    wal.flush()
    assert len(_segments(path)) == 1  # the one being written
    assert wal.pending()["batches"] == 0
    wal.close()
    assert stored(engine) == [f"e{i}" for i in range(5)]
    engine.close()


def test_a_log_in_the_sqlite_format_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    legacy = Path(f"{path}.ingest.sqlite")
    con = sqlite3.connect(legacy)
    con.executescript(
        "CREATE TABLE batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, "
        "rows INTEGER NOT NULL, at REAL NOT NULL, body BLOB NOT NULL);"
    )
    for ids in ([1, 2], [3]):
        body = _to_ipc(events(ids).to_batches()[0])
        con.execute(
            "INSERT INTO batches (tbl, rows, at, body) VALUES ('events', ?, ?, ?)",
            (len(ids), time.time(), body),
        )
    con.commit()
    con.close()
    engine = DuckDBEngine(path)
    wal = WalIngest(engine, threading.Lock(), max_properties=8)
    assert not legacy.exists()
    assert wal.append("events", events([3, 4])).stored == 1  # e3 came from the old log
    wal.flush()
    assert stored(engine) == ["e1", "e2", "e3", "e4"]
    wal.close()
    engine.close()


def test_batches_the_store_holds_are_forgotten_when_the_drain_starts(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    engine = DuckDBEngine(path)
    log = IngestLog(log_path_for(str(path)))
    log.append("events", events([1, 2]))
    drainer = Drainer(log, engine, threading.Lock())  # not started: drained by hand
    log.forget = lambda through: None  # type: ignore[method-assign]
    assert drainer.drain_once() == 2  # the store has both; the log "dies" before forgetting
    log.close()
    log = IngestLog(log_path_for(str(path)))
    assert log.pending()["batches"] == 1
    Drainer(log, engine, threading.Lock())
    assert log.pending()["batches"] == 0
    assert _segments(path) == []  # the only segment was closed by the restart: deleted
    log.close()
    assert stored(engine) == ["e1", "e2"]
    engine.close()
