"""The interleaving query on PostgreSQL (an Ibis backend) counts what DuckDB counts."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from shipit.errors import EngineError
from shipit.metrics.interleaving import interleaving_counts
from shipit.sim.interleaving import textbook_pair
from shipit.sim.interleaving_events import interleaving_events
from shipit.spec import Experiment
from shipit.store.engine import connect
from shipit.store.tables import TABLES

PG = "postgres://postgres@127.0.0.1:5432/test"
SPEC = {
    "key": "interleaving-sim",
    "type": "interleaving",
    "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
    "interleaving": {"click_event": "click", "credit": {"max_position": 4}},
}


@pytest.mark.postgres
def test_postgres_counts_equal_duckdb() -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed (extra: postgres)")
    try:
        pg = connect(PG)
    except EngineError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (database test) is not reachable: {exc}")
    rows = interleaving_events(textbook_pair(), sessions=800, units=150, seed=6)
    exp = Experiment.model_validate(SPEC)
    duck = connect(":memory:")
    duck.append(TABLES["events"], rows.to_batches())
    name = f"events_{uuid.uuid4().hex[:10]}"
    pg.backend.create_table(name, rows)
    try:
        start = datetime(2026, 1, 1)
        assert interleaving_counts(exp, pg, table=name, phase_start=start) == (
            interleaving_counts(exp, duck, phase_start=start)
        )
    finally:
        pg.execute(f'DROP TABLE "{name}"')
        pg.close()
