"""Allocation periods in the registry (migration 0005), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from shipit.errors import ConflictError, StateError
from shipit.registry import SqlAlchemyRepository
from shipit.registry.bandits import BanditPeriods
from shipit.spec import Experiment

SPEC = {
    "key": "bandit",
    "type": "bandit",
    "bandit": {"reward": "converted"},
    "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}],
    "metrics": [{"name": "converted", "event": "buy", "aggregation": "any"}],
}


def test_migration_0005_creates_the_periods_table(registry: SqlAlchemyRepository) -> None:
    inspector = sa.inspect(registry.engine)
    assert "bandit_periods" in inspector.get_table_names()
    columns = {c["name"] for c in inspector.get_columns("bandit_periods")}
    assert {"experiment_key", "phase", "number", "started_at", "weights", "summary"} <= columns
    with registry.engine.connect() as con:
        assert con.scalar(sa.text("SELECT version_num FROM shipit_alembic_version")) >= "0005"
    _alembic(registry, "downgrade", "0004")  # and back: the downgrade drops only this table
    inspector = sa.inspect(registry.engine)
    assert "bandit_periods" not in inspector.get_table_names()
    assert "alert_states" in inspector.get_table_names()
    registry.migrate()
    assert "bandit_periods" in sa.inspect(registry.engine).get_table_names()


def _alembic(registry: SqlAlchemyRepository, step: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from shipit.registry.repository import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with registry.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, step)(cfg, revision)


def test_periods_start_with_the_spec_weights_and_append_in_order(
    registry: SqlAlchemyRepository,
) -> None:
    periods = BanditPeriods(registry.engine)
    registry.create(Experiment.model_validate(SPEC))
    with pytest.raises(StateError, match="has not started"):
        periods.periods(registry, "bandit")
    record = registry.start("bandit")
    assert record.phase is not None
    assert periods.current(record) is None  # never updated: the spec's weights serve
    [first] = periods.periods(registry, "bandit")
    assert first.number == 0
    assert first.weights == {"a": 0.5, "b": 0.5}
    assert first.started_at == record.phase.started_at.replace(tzinfo=UTC)
    at = datetime(2030, 1, 1, 12, tzinfo=UTC)
    periods.record("bandit", 1, 1, at, {"a": 0.2, "b": 0.8}, "update", {"n": {"a": 10}})
    periods.record("bandit", 1, 2, at + timedelta(hours=1), {"a": 0.1, "b": 0.9}, "update")
    found = periods.periods(registry, "bandit")
    assert [p.number for p in found] == [0, 1, 2]
    assert found[1].started_at == at
    assert found[1].summary == {"n": {"a": 10}}
    assert periods.current(registry.get("bandit")) == {"a": 0.1, "b": 0.9}
    with pytest.raises(ConflictError, match="period 2 of phase 1 is already recorded"):
        periods.record("bandit", 1, 2, at, {"a": 0.5, "b": 0.5}, "update")
    with pytest.raises(StateError, match="time zone"):
        periods.record("bandit", 1, 3, datetime(2030, 1, 2), {"a": 0.5, "b": 0.5}, "update")


def test_a_new_phase_starts_from_the_spec_weights_again(registry: SqlAlchemyRepository) -> None:
    periods = BanditPeriods(registry.engine)
    registry.create(Experiment.model_validate(SPEC))
    registry.start("bandit")
    periods.record("bandit", 1, 1, datetime.now(UTC), {"a": 0.1, "b": 0.9}, "update")
    record = registry.ramp("bandit", 0.5, reason="half the traffic")
    assert record.phase is not None
    assert record.phase.number == 2
    assert periods.current(record) is None
    assert [p.number for p in periods.periods(registry, "bandit")] == [0]
