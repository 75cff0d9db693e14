"""One place quotes SQL names and values, and says what each dialect supports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from shipit.metrics.io import list_variants
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load
from shipit.store.sql import capabilities_for, identifier, literal


def test_names_and_values_with_quotes_round_trip_through_duckdb() -> None:
    e = DuckDBEngine(":memory:")
    table, column, value = 'we"ird', "it's", 'O\'Brien \\ "x"'
    e.execute(f"CREATE TABLE {identifier(table)} ({identifier(column)} VARCHAR)")
    e.execute(f"INSERT INTO {identifier(table)} VALUES ({literal(value)})")
    got = e.query(f"SELECT {identifier(column)} AS v FROM {identifier(table)}").to_pydict()
    assert got == {"v": [value]}
    assert e.columns(table) == {column: "VARCHAR"}


def test_literals_follow_the_dialect() -> None:
    assert literal("it's") == "'it''s'"
    spark = literal("it's", "spark")
    parsed = sqlglot.parse_one(f"SELECT {spark}", read="spark")
    assert parsed.find(exp.Literal).this == "it's"  # type: ignore[union-attr]
    assert identifier("a b", "spark") == "`a b`"
    assert identifier("a b") == '"a b"'


def test_an_experiment_key_with_a_quote_is_a_value_not_sql() -> None:
    e = DuckDBEngine(":memory:")
    exposures = pd.DataFrame(
        {
            "experiment": ["x' OR '1'='1", "other"],
            "unit_id": ["u1", "u2"],
            "variant": ["a", "b"],
            "timestamp": pd.Timestamp("2024-01-01"),
        }
    )
    load(e, "exposures", exposures)
    assert list_variants(e, "x' OR '1'='1", None) == ["a"]


def test_capabilities_per_dialect() -> None:
    duck, spark, pg = (capabilities_for(d) for d in ("duckdb", "spark", "postgres"))
    assert DuckDBEngine(":memory:").capabilities == duck
    assert duck.supports_unit_slices
    assert not spark.supports_unit_slices
    assert duck.supports_not_materialized
    assert pg.supports_not_materialized
    assert not spark.supports_not_materialized
    assert capabilities_for("snowflake").quantile_function is None
    x, q = exp.column("x"), exp.Literal.number(0.9)
    assert duck.quantile(x, q).sql("duckdb") == "QUANTILE_CONT(x, 0.9)"
    assert spark.quantile(x, q).sql("spark") == "PERCENTILE(x, 0.9)"
    assert pg.quantile(x, q).sql("postgres") == "PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY x)"


@pytest.mark.parametrize("q", [0.1, 0.5, 0.95])
def test_duckdb_quantile_is_numpys_linear_quantile(q: float) -> None:
    rng = np.random.default_rng(9)
    values = rng.lognormal(0.0, 1.0, 257)
    e = DuckDBEngine(":memory:")
    e.con.register("t", {"x": values})
    expr = e.capabilities.quantile(exp.column("x"), exp.Literal.number(q)).sql("duckdb")
    got = e.query(f"SELECT {expr} AS v FROM t").to_pydict()["v"][0]
    assert got == pytest.approx(float(np.quantile(values, q)), rel=1e-12)


def test_hex_digits_parse_alike_on_duckdb_and_are_refused_where_unknown() -> None:
    """DuckDB's parse of MD5 digits equals Python's int(h, 16); Spark's is CONV; an engine
    without a known parse gets an error naming its dialect, not wrong weights."""
    import hashlib

    from shipit.errors import InputError

    digits = exp.Substring(
        this=exp.MD5(this=exp.Literal.string("u1:7")),
        start=exp.Literal.number(1),
        length=exp.Literal.number(8),
    )
    duck = capabilities_for("duckdb").from_hex(digits).sql("duckdb")
    got = DuckDBEngine(":memory:").query(f"SELECT {duck} AS k").to_pydict()["k"][0]
    assert got == int(hashlib.md5(b"u1:7").hexdigest()[:8], 16)
    assert "CONV(" in capabilities_for("spark").from_hex(digits).sql("spark")
    with pytest.raises(InputError, match="postgres"):
        capabilities_for("postgres").from_hex(digits)
