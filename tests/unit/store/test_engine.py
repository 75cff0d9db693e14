"""connect(), bring-your-own tables and the Engine protocol."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from shipit.errors import EngineError, InputError, NotFoundError
from shipit.metrics.run import compute_moments
from shipit.spec.metric import MetricDef
from shipit.store.duckdb import DuckDBEngine
from shipit.store.engine import DEFAULT_STORE, Engine, connect, map_table
from shipit.store.loaders import load


def test_default_store_is_a_file_in_the_project(tmp_path: Path) -> None:
    engine = connect()
    assert isinstance(engine, DuckDBEngine)
    assert isinstance(engine, Engine)
    load(engine, "units", pd.DataFrame({"unit_id": ["a"]}))
    engine.close()
    assert (tmp_path / DEFAULT_STORE).is_file()
    again = connect(f"duckdb://{tmp_path / DEFAULT_STORE}")
    assert again.query("SELECT count(*) AS n FROM units")[0][0].as_py() == 1


def test_ibis_duckdb_urls_open_the_native_engine(tmp_path: Path) -> None:
    """Ibis 12 cannot drive DuckDB 2.0, so ibis+duckdb:// is served natively (same SQL)."""
    memory = connect("ibis+duckdb://")
    assert isinstance(memory, DuckDBEngine)
    assert memory.path == ":memory:"
    exposures = pd.DataFrame(
        {
            "experiment": "e",
            "phase": 1,
            "unit_id": ["a", "b", "c"],
            "variant": ["control", "treatment", "treatment"],
            "timestamp": pd.Timestamp("2024-01-01"),
        }
    )
    events = pd.DataFrame(
        {
            "unit_id": ["a", "b", "b"],
            "event": "buy",
            "timestamp": pd.Timestamp("2024-01-02"),
            "value": [1.0, 2.0, 3.0],
        }
    )
    file = tmp_path / "ibis.duckdb"
    stored = connect(f"ibis+duckdb://{file}")
    for engine in (memory, stored):
        load(engine, "exposures", exposures)
        load(engine, "events", events)
        got = compute_moments(
            engine, "e", 1, ["control", "treatment"], [MetricDef(name="m", event="buy")]
        )
        assert got["m"].n.tolist() == [1.0, 2.0]
        assert got["m"].sum("y").tolist() == [1.0, 5.0]
    stored.close()
    assert connect(f"ibis+duckdb://{file}").query("SELECT count(*) FROM events")[0][0].as_py() == 3


def test_engine_errors_are_translated() -> None:
    with pytest.raises(EngineError, match="DuckDB query failed"):
        DuckDBEngine().query("SELECT * FROM nowhere")


def test_bring_your_own_tables_through_a_mapping() -> None:
    engine = DuckDBEngine()
    engine.execute(
        "CREATE TABLE wh_assign AS SELECT * FROM (VALUES "
        "('exp', 1, 'A', TIMESTAMP '2024-01-01 00:00:00', 'de'), "
        "('exp', 2, 'B', TIMESTAMP '2024-01-01 01:00:00', 'fr')) "
        "t(test_name, customer, arm, seen_at, country)"
    )
    engine.execute(
        "CREATE TABLE wh_orders AS SELECT * FROM (VALUES "
        "(1, 'order', TIMESTAMP '2024-01-01 02:00:00', 10.0), "
        "(2, 'order', TIMESTAMP '2024-01-01 03:00:00', 4.0), "
        "(2, 'order', TIMESTAMP '2024-01-01 04:00:00', 1.0)) t(customer, kind, ts_at, amount)"
    )
    map_table(
        engine,
        "exposures",
        "wh_assign",
        {
            "experiment": "test_name",
            "unit_id": "customer",
            "variant": "arm",
            "timestamp": "seen_at",
        },
    )
    map_table(
        engine,
        "events",
        "wh_orders",
        {"unit_id": "customer", "event": "kind", "timestamp": "ts_at", "value": "amount"},
    )
    got = compute_moments(engine, "exp", 0, ["A", "B"], [MetricDef(name="rev", event="order")])
    assert got["rev"].sum("y").tolist() == [10.0, 5.0]
    assert got["rev"].sum_product("y", "y").tolist() == [100.0, 25.0]
    assert engine.columns("exposures") is not None
    assert "country" in (engine.columns("exposures") or {})


def test_mapping_names_what_is_missing() -> None:
    engine = DuckDBEngine()
    engine.execute("CREATE TABLE t AS SELECT 1 AS customer")
    with pytest.raises(InputError, match=r"required events\.event"):
        map_table(engine, "events", "t", {"unit_id": "customer"})
    with pytest.raises(InputError, match=r"column 'nope' not in table 't'"):
        map_table(engine, "events", "t", {"unit_id": "nope"})
    with pytest.raises(NotFoundError):
        map_table(engine, "events", "missing", {})
