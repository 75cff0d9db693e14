"""Warehouse tables without copying: a spec's ``tables:`` block (or ``shipit map``) reads an
assignment log without an experiment column and an orders table with its own column names,
on DuckDB, on PostgreSQL through Ibis, and on Spark; the numbers are pandas' on the rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shipit.analysis import analyze
from shipit.cli.main import app
from shipit.errors import DataError, InputError
from shipit.spec.experiment import Experiment
from shipit.store.duckdb import DuckDBEngine
from shipit.store.engine import Engine, map_table

T0 = pd.Timestamp("2024-06-03 08:00:00")


def _warehouse(n: int = 300, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An assignment log of one experiment and an orders table, warehouse-style names."""
    rng = np.random.default_rng(seed)
    customers = [f"c{i:04d}" for i in range(n)]
    log = pd.DataFrame(
        {
            "customer_id": customers,
            "arm": rng.choice(["old checkout", "new checkout"], n),
            "seen_at": T0 + pd.to_timedelta(rng.integers(0, 3 * 86400, n), "s"),
            "country": rng.choice(["NA", "de", "us"], n),
        }
    )
    k = 900
    who = rng.integers(0, n, k)
    orders = pd.DataFrame(
        {
            "customer_id": [customers[i] for i in who],
            "kind": rng.choice(["order", "refund"], k, p=[0.8, 0.2]),
            # Some orders come before the customer's exposure: the window drops them.
            "ts": log["seen_at"].to_numpy()[who]
            + pd.to_timedelta(rng.integers(-86400, 5 * 86400, k), "s"),
            "amount": rng.gamma(2.0, 10.0, k).round(2),
        }
    )
    return log, orders


SPEC: dict[str, Any] = {
    "key": "checkout-v2",
    "variants": [{"key": "old checkout", "weight": 0.5}, {"key": "new checkout", "weight": 0.5}],
    "metrics": [
        {"name": "revenue", "event": "order"},
        {"name": "ordered", "event": "order", "aggregation": "any"},
    ],
    "tables": {
        "exposures": {
            "table": "assign_log",
            "columns": {"unit_id": "customer_id", "variant": "arm", "timestamp": "seen_at"},
            "constants": {"experiment": "checkout-v2"},
        },
        "events": {
            "table": "orders",
            "columns": {
                "unit_id": "customer_id",
                "event": "kind",
                "timestamp": "ts",
                "value": "amount",
            },
        },
    },
}


def _pandas_means(log: pd.DataFrame, orders: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per variant: mean revenue and share ordering after exposure, zeros included."""
    o = orders[orders["kind"] == "order"].merge(log, on="customer_id")
    o = o[o["ts"] >= o["seen_at"]]
    per = o.groupby("customer_id")["amount"].sum()
    units = log.set_index("customer_id")
    units["revenue"] = per.reindex(units.index).fillna(0.0)
    units["ordered"] = (units["revenue"] > 0).astype(float)
    # every order has a positive amount, so "any order" equals "revenue > 0"
    return {m: units.groupby("arm")[m].mean().to_dict() for m in ("revenue", "ordered")}


def _check(
    engine: Engine, log: pd.DataFrame, orders: pd.DataFrame, *, segments: bool = True
) -> None:
    by = ["country"] if segments else []
    a = analyze(Experiment.model_validate(SPEC), engine, daily=False, segments=by)
    want = _pandas_means(log, orders)
    for e in a.effects:
        assert e.mean_control == pytest.approx(want[e.metric]["old checkout"], rel=1e-9)
        assert e.mean_variant == pytest.approx(want[e.metric]["new checkout"], rel=1e-9)
    assert a.units == log["arm"].value_counts().to_dict()
    if segments:
        assert {s.segment for s in a.segments} == {"NA", "de", "us"}


def test_duckdb_reads_the_spec_tables_without_copying() -> None:
    log, orders = _warehouse()
    engine = DuckDBEngine(":memory:")
    for name, frame in (("assign_log", log), ("orders", orders)):
        engine.con.register("frame", frame)
        engine.execute(f"CREATE TABLE {name} AS FROM frame")
        engine.con.unregister("frame")
    _check(engine, log, orders)
    assert engine.columns("exposures") is None  # the store's own tables were not made


def test_cli_map_then_analyze(tmp_path: Path) -> None:
    log, orders = _warehouse()
    store = tmp_path / "wh.duckdb"
    engine = DuckDBEngine(store)
    for name, frame in (("assign_log", log), ("orders", orders)):
        engine.con.register("frame", frame)
        engine.execute(f"CREATE TABLE {name} AS FROM frame")
        engine.con.unregister("frame")
    engine.close()
    runner = CliRunner()
    cols = SPEC["tables"]
    for table in ("exposures", "events"):
        args = ["map", table, cols[table]["table"], "--store", str(store)]
        for k, v in cols[table]["columns"].items():
            args += ["--map", f"{k}={v}"]
        for k, v in cols[table].get("constants", {}).items():
            args += ["--constant", f"{k}={v}"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert f"{table} is now a view over {cols[table]['table']}" in result.output
    spec = {k: v for k, v in SPEC.items() if k != "tables"}
    engine = DuckDBEngine(store)
    a = analyze(Experiment.model_validate(spec), engine, daily=False)
    want = _pandas_means(log, orders)
    assert a.effects[0].mean_control == pytest.approx(want["revenue"]["old checkout"], rel=1e-9)


def test_map_errors_name_the_option(tmp_path: Path) -> None:
    engine = DuckDBEngine(":memory:")
    engine.execute("CREATE TABLE t AS SELECT 'c1' AS customer, 'a' AS arm, now() AS ts")
    with pytest.raises(InputError, match=r"--map experiment=SOURCE_COLUMN or --constant"):
        map_table(engine, "exposures", "t", {"unit_id": "customer", "variant": "arm"})
    with pytest.raises(InputError, match=r"exposures has no column 'arm_key'"):
        map_table(engine, "exposures", "t", {"arm_key": "arm"})
    result = CliRunner().invoke(app, ["map", "exposures", "t", "--map", "unit_id"])
    assert isinstance(result.exception, InputError)
    assert "--map takes COLUMN=VALUE" in str(result.exception)


def test_a_bad_spec_mapping_names_the_block() -> None:
    log, _orders = _warehouse(20)
    engine = DuckDBEngine(":memory:")
    engine.con.register("frame", log)
    engine.execute("CREATE TABLE assign_log AS FROM frame")
    spec = {**SPEC, "tables": {"exposures": {"table": "assign_log"}}}
    with pytest.raises(InputError, match=r"^tables\.exposures: table 'assign_log' has no column"):
        analyze(Experiment.model_validate(spec), engine)


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """A fresh schema in the PostgreSQL ``test`` database, through Ibis."""
    ibis = pytest.importorskip("ibis")
    pytest.importorskip("psycopg", reason="psycopg is not installed (extra: postgres)")
    from shipit.store.ibis import IbisEngine

    schema = f"shipit_map_{uuid.uuid4().hex[:10]}"
    try:
        admin = ibis.postgres.connect(
            host="127.0.0.1", user="postgres", database="test", connect_timeout=3
        )
    except Exception as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (database test) is not reachable: {exc}")
    admin.raw_sql(f'CREATE SCHEMA "{schema}"')
    backend = ibis.postgres.connect(
        host="127.0.0.1",
        user="postgres",
        database="test",
        options=f"-csearch_path={schema}",
    )
    try:
        yield IbisEngine(backend)
    finally:
        backend.disconnect()
        admin.raw_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.disconnect()


@pytest.mark.postgres
def test_postgres_through_ibis_reads_the_spec_tables(pg_engine: Any) -> None:
    log, orders = _warehouse()
    for name, frame in (("assign_log", log), ("orders", orders)):
        pg_engine.backend.create_table(name, obj=frame)
    # Segments need ARG_MIN, which PostgreSQL lacks: the mapping is what is tested here.
    _check(pg_engine, log, orders, segments=False)


@pytest.mark.spark
def test_spark_reads_the_spec_tables(spark_session: Any) -> None:
    ibis = pytest.importorskip("ibis")
    from shipit.store.ibis import IbisEngine

    log, orders = _warehouse()
    for name, frame in (("assign_log", log), ("orders", orders)):
        spark_session.createDataFrame(frame).createOrReplaceTempView(name)
    _check(IbisEngine(ibis.pyspark.connect(spark_session)), log, orders)


def _typo_spec() -> Experiment:
    bad = {**SPEC, "metrics": [{"name": "revenue", "event": "ordr"}]}
    return Experiment.model_validate(bad)


@pytest.mark.postgres
def test_postgres_refuses_an_event_typo_and_flags_late_exposures(pg_engine: Any) -> None:
    log, orders = _warehouse(60)
    late = log.assign(seen_at=log["seen_at"] + pd.Timedelta(days=10))
    pg_engine.backend.create_table("assign_log", obj=late)
    pg_engine.backend.create_table("orders", obj=orders)
    with pytest.raises(DataError, match=r"event 'ordr' has no rows.*did you mean 'order'"):
        analyze(_typo_spec(), pg_engine, daily=False)
    a = analyze(Experiment.model_validate(SPEC), pg_engine, daily=False, segments=[])
    check = next(c for c in a.trust if c.name == "events_before_exposure")
    assert check.status == "fail"


@pytest.mark.spark
def test_spark_refuses_an_event_typo_and_flags_late_exposures(spark_session: Any) -> None:
    ibis = pytest.importorskip("ibis")
    from shipit.store.ibis import IbisEngine

    log, orders = _warehouse(60)
    late = log.assign(seen_at=log["seen_at"] + pd.Timedelta(days=10))
    spark_session.createDataFrame(late).createOrReplaceTempView("assign_log")
    spark_session.createDataFrame(orders).createOrReplaceTempView("orders")
    engine = IbisEngine(ibis.pyspark.connect(spark_session))
    with pytest.raises(DataError, match=r"event 'ordr' has no rows.*did you mean 'order'"):
        analyze(_typo_spec(), engine, daily=False)
    a = analyze(Experiment.model_validate(SPEC), engine, daily=False, segments=[])
    check = next(c for c in a.trust if c.name == "events_before_exposure")
    assert check.status == "fail"
