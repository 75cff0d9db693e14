"""Loading: row-numbered rejections, all-or-nothing batches, idempotent retries."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipit.errors import DataError, InputError, NotFoundError
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load
from shipit.store.tables import EVENTS


def events(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(start, start + n)],
            "unit_id": [f"u{i % 7}" for i in range(start, start + n)],
            "event": "purchase",
            "timestamp": pd.date_range("2024-01-01", periods=n, freq="min"),
            "value": [float(i) for i in range(n)],
        }
    )


def rows(engine: DuckDBEngine, table: str) -> pd.DataFrame:
    return engine.query(f"SELECT * FROM {table} ORDER BY ALL").to_pandas()


def test_csv_parquet_arrow_and_pandas_load_the_same(tmp_path: Path) -> None:
    df = events(20)
    csv, parquet = tmp_path / "e.csv", tmp_path / "e.parquet"
    df.to_csv(csv, index=False)
    df.to_parquet(parquet)
    stores = [DuckDBEngine() for _ in range(4)]
    for store, source in zip(stores, [csv, parquet, pa.Table.from_pandas(df), df], strict=True):
        assert load(store, "events", source) == 20
    first = rows(stores[0], "events")
    for store in stores[1:]:
        pd.testing.assert_frame_equal(rows(store, "events"), first)


def test_bad_rows_are_reported_with_row_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "unit_id,event,timestamp,value\n"
        "u1,buy,2024-01-01 10:00:00,1.5\n"
        ",buy,2024-01-01 10:00:00,1\n"
        "u3,buy,yesterday,1\n"
        "u4,buy,2024-01-02,abc\n"
        "u5,,2024-01-02,1\n"
    )
    store = DuckDBEngine()
    with pytest.raises(DataError) as err:
        load(store, "events", path)
    msg = str(err.value)
    assert "4 bad row(s)" in msg
    assert "row 2: unit_id is missing" in msg
    assert "row 3: timestamp yesterday is not a valid TIMESTAMP" in msg
    assert "row 4: value abc is not a valid DOUBLE" in msg
    assert "row 5: event is missing" in msg
    assert store.columns("events") is None  # nothing was created


def test_missing_required_column_is_named() -> None:
    with pytest.raises(DataError, match="required column 'variant' is missing"):
        load(DuckDBEngine(), "exposures", pd.DataFrame({"experiment": ["e"], "unit_id": ["u"]}))


def test_bad_batch_leaves_the_store_as_it_was() -> None:
    store = DuckDBEngine()
    load(store, "events", events(10))
    before = rows(store, "events")
    bad = events(30, start=100)
    bad.loc[25, "timestamp"] = None  # in the third chunk of 10
    with pytest.raises(DataError, match="row 26: timestamp is missing"):
        load(store, "events", bad, batch_rows=10)
    pd.testing.assert_frame_equal(rows(store, "events"), before)


def test_retry_after_a_failure_neither_loses_nor_duplicates() -> None:
    store = DuckDBEngine()
    load(store, "events", events(10))
    batch = pa.Table.from_pandas(events(50, start=5))  # overlaps e5..e9

    def failing() -> Iterator[pa.RecordBatch]:
        for i, b in enumerate(batch.to_batches(max_chunksize=10)):
            if i == 3:
                raise ConnectionError("network dropped")
            yield b

    with pytest.raises(ConnectionError):
        store.append(EVENTS, failing())
    assert len(rows(store, "events")) == 10
    assert load(store, "events", batch) == 45
    assert load(store, "events", batch) == 0
    got = rows(store, "events")
    assert sorted(got["event_id"]) == sorted(f"e{i}" for i in range(55))


def test_duplicate_ids_within_a_batch_are_stored_once() -> None:
    store = DuckDBEngine()
    assert load(store, "events", pd.concat([events(5), events(5)])) == 5


def test_events_without_id_are_appended_as_given() -> None:
    store = DuckDBEngine()
    df = events(3).drop(columns="event_id")
    assert load(store, "events", df) == 3
    assert load(store, "events", df) == 3


def test_exposures_are_idempotent_and_attributes_kept() -> None:
    store = DuckDBEngine()
    df = pd.DataFrame(
        {
            "experiment": "x",
            "unit_id": ["a", "b"],
            "variant": ["control", "treatment"],
            "timestamp": ["2024-01-01T10:00:00Z", "2024-01-01T12:00:00+02:00"],
            "country": ["de", None],
        }
    )
    assert load(store, "exposures", df) == 2
    assert load(store, "exposures", df) == 0
    got = rows(store, "exposures")
    assert got["phase"].tolist() == [0, 0]
    assert got["timestamp"].astype(str).tolist() == ["2024-01-01 10:00:00", "2024-01-01 10:00:00"]
    assert got["country"].tolist()[0] == "de"


def test_units_reload_replaces_the_row() -> None:
    store = DuckDBEngine()
    load(store, "units", pd.DataFrame({"unit_id": ["a", "b"], "spend": [1.0, 2.0]}))
    load(store, "units", pd.DataFrame({"unit_id": ["a"], "spend": [5.0]}))
    assert rows(store, "units")["spend"].tolist() == [5.0, 2.0]


def test_non_finite_values_are_rejected() -> None:
    df = events(2)
    df.loc[1, "value"] = float("inf")
    with pytest.raises(DataError, match="row 2: value inf is not a finite number"):
        load(DuckDBEngine(), "events", df)


def test_unknown_table_and_missing_file() -> None:
    with pytest.raises(InputError, match="unknown table"):
        load(DuckDBEngine(), "clicks", events(1))
    with pytest.raises(NotFoundError, match="no such file"):
        load(DuckDBEngine(), "events", "nope.csv")


@settings(max_examples=10, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 40), max_size=4),
    repeat=st.lists(st.integers(0, 3), min_size=1, max_size=4),
)
def test_any_split_and_replay_stores_each_event_once(cuts: list[int], repeat: list[int]) -> None:
    """However the events are split into batches and replayed, each id is stored once."""
    df = events(40)
    bounds = sorted({0, 40, *cuts})
    parts = [df.iloc[a:b] for a, b in itertools.pairwise(bounds)]
    store = DuckDBEngine()
    for i in repeat:
        load(store, "events", parts[i % len(parts)])
    for part in parts:
        load(store, "events", part)
    got = rows(store, "events")
    assert sorted(got["event_id"]) == sorted(df["event_id"])


def test_progress_reaches_the_file_size(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    events(500).to_csv(path, index=False)
    seen: list[tuple[int, int]] = []
    load(DuckDBEngine(), "events", path, progress=lambda done, total: seen.append((done, total)))
    assert seen
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_csv_text_is_read_verbatim_and_only_empty_fields_are_null(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        "event_id,unit_id,event,timestamp,value,country,note\n"
        "NA,u1,purchase,2024-01-01T00:00:00Z,1.5,NA,null\n"
        "N/A,u2,purchase,2024-01-01T00:01:00Z,,NaN,\n"
        "e3,NULL,purchase,2024-01-01T00:02:00Z,2,,nan\n"
    )
    store = DuckDBEngine()
    assert load(store, "events", path) == 3
    assert load(store, "events", path) == 0  # a reload stores nothing again, "NA" included
    got = rows(store, "events").set_index("event_id")
    assert sorted(got.index) == ["N/A", "NA", "e3"]
    assert got.loc["NA", "country"] == "NA"  # Namibia stays
    assert got.loc["NA", "note"] == "null"
    assert got.loc["N/A", "country"] == "NaN"
    assert got.loc["e3", "unit_id"] == "NULL"
    assert pd.isna(got.loc["N/A", "value"])  # an empty numeric field is NULL
    assert pd.isna(got.loc["N/A", "note"])
    assert pd.isna(got.loc["e3", "country"])
    assert got.loc["NA", "value"] == 1.5


def test_csv_text_in_a_numeric_column_is_refused_with_its_row(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text(
        "event_id,unit_id,event,timestamp,value\n"
        "e1,u1,purchase,2024-01-01T00:00:00Z,1\n"
        "e2,u1,purchase,2024-01-01T00:00:00Z,NA\n"
    )
    with pytest.raises(DataError, match="row 2"):
        load(DuckDBEngine(), "events", path)
