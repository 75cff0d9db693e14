"""The shadow summaries on PostgreSQL equal DuckDB's (scores, labels by event value):
counts, unit moments, the distribution of differences and the latency moments."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from shipit.sim.shadow import simulate_labels, simulate_scores
from shipit.store import EVENTS, DuckDBEngine, connect
from shipit.store.shadow import ShadowQuery
from shipit.store.tables import SHADOW

PG = "postgres://postgres@127.0.0.1:5432/test"
pytestmark = pytest.mark.postgres


@pytest.fixture
def engines() -> Iterator[tuple[Any, Any, str, str]]:
    pytest.importorskip("psycopg")
    sim = simulate_scores(4, units=120, labelled=0.8)
    tag = uuid.uuid4().hex[:10]
    shadow, events = f"shadow_{tag}", f"events_{tag}"
    try:
        pg = connect(PG)
    except Exception as exc:  # no server: skip (CI=true turns skips of this marker into failures)
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    duck = DuckDBEngine()
    tables = [(replace(SHADOW, name=shadow), sim.shadow_table("x"))]  # type: ignore[arg-type]
    tables += [(replace(EVENTS, name=events), sim.events_table("label"))]  # type: ignore[arg-type]
    for engine in (pg, duck):
        for schema, data in tables:
            engine.append(schema, data.to_batches())
    try:
        yield pg, duck, shadow, events
    finally:
        for name in (shadow, events):
            pg.execute(f'DROP TABLE IF EXISTS "{name}"')
        pg.close()


def test_postgres_summaries_equal_duckdb(engines: tuple[Any, Any, str, str]) -> None:
    pg, duck, shadow, events = engines
    q = ShadowQuery(
        "x", tolerance=0.02, label_event="label", metrics=("accuracy", "mse", "log_loss"),
        table=shadow, events=events,
    )  # fmt: skip
    assert q.counts(pg) == q.counts(duck)
    for a, b in zip(q.moments(pg), q.moments(duck), strict=True):
        assert a.name == b.name
        assert (a.n, a.s, a.c, a.s_s, a.s_c, a.c_c) == pytest.approx(
            (b.n, b.s, b.c, b.s_s, b.s_c, b.c_c), rel=1e-12, abs=1e-9
        )
    d_pg, d_duck = q.distribution(pg, (0.1, 0.5, 0.9), 8), q.distribution(duck, (0.1, 0.5, 0.9), 8)
    assert d_pg is not None
    assert d_duck is not None
    assert d_pg["counts"] == d_duck["counts"]
    assert d_pg["quantiles"] == pytest.approx(d_duck["quantiles"], abs=1e-12)
    lat_pg, lat_duck = q.latency(pg, (0.5, 0.95)), q.latency(duck, (0.5, 0.95))
    assert lat_pg["qhat"] == pytest.approx(lat_duck["qhat"], abs=1e-9)
    for key, value in lat_duck.items():
        if key != "qhat":
            assert lat_pg[key] == pytest.approx(value, abs=1e-9), key
    assert q.quantiles_at(pg, "cm", [0.2, 0.7]) == pytest.approx(
        q.quantiles_at(duck, "cm", [0.2, 0.7]), abs=1e-9
    )


def test_postgres_label_summaries_equal_duckdb() -> None:
    pytest.importorskip("psycopg")
    sim = simulate_labels(6, units=100)
    tag = uuid.uuid4().hex[:10]
    shadow, events = f"shadow_{tag}", f"events_{tag}"
    try:
        pg = connect(PG)
    except Exception as exc:
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    duck = DuckDBEngine()
    tables = [(replace(SHADOW, name=shadow), sim.shadow_table("x"))]  # type: ignore[arg-type]
    tables += [(replace(EVENTS, name=events), sim.events_table("label"))]  # type: ignore[arg-type]
    try:
        for engine in (pg, duck):
            for schema, data in tables:
                engine.append(schema, data.to_batches())
        q = ShadowQuery(
            "x", output="label", label_event="label", label_property="label",
            metrics=("accuracy",), table=shadow, events=events,
        )  # fmt: skip
        assert q.counts(pg) == q.counts(duck)
        for a, b in zip(q.moments(pg), q.moments(duck), strict=True):
            assert (a.name, a.n, a.s, a.c, a.s_s) == (b.name, b.n, b.s, b.c, b.s_s)
        assert q.disagreements(pg) == q.disagreements(duck)
    finally:
        for name in (shadow, events):
            pg.execute(f'DROP TABLE IF EXISTS "{name}"')
        pg.close()
