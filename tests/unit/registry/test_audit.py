"""The audit log is append-only on every engine: no UPDATE, DELETE or TRUNCATE gets through."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from shipit.registry import SqlAlchemyRepository
from shipit.registry.repository import MIGRATIONS
from shipit.spec import Experiment

SPEC = {"key": "exp", "variants": [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}]}


def _refused(engine: sa.Engine, statement: str) -> None:
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text(statement))


def test_truncate_of_the_audit_log_is_refused(registry: SqlAlchemyRepository) -> None:
    registry.create(Experiment.model_validate(SPEC))
    if registry.engine.dialect.name == "sqlite":
        # SQLite has no TRUNCATE; its form of one, an unqualified DELETE, fires the trigger.
        _refused(registry.engine, "DELETE FROM audit_log")
    else:
        _refused(registry.engine, "TRUNCATE audit_log")
        _refused(registry.engine, "TRUNCATE audit_log RESTART IDENTITY CASCADE")
    assert [e.action for e in registry.audit("exp")] == ["create"]


@pytest.mark.postgres
def test_upgrading_an_existing_registry_blocks_truncate(pg_url: str) -> None:
    """A registry made before the trigger existed gets it from the migration, entries intact."""
    engine = sa.create_engine(pg_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))

    def migrate(to: str) -> None:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, to)

    try:
        migrate("0002")
        repo = SqlAlchemyRepository(engine)
        repo.create(Experiment.model_validate(SPEC))
        with engine.begin() as conn:  # before the migration, TRUNCATE went through
            conn.execute(sa.text("SAVEPOINT s"))
            conn.execute(sa.text("TRUNCATE audit_log"))
            conn.execute(sa.text("ROLLBACK TO SAVEPOINT s"))
        migrate("head")
        _refused(engine, "TRUNCATE audit_log")
        assert [e.action for e in repo.audit("exp")] == ["create"]
    finally:
        engine.dispose()
