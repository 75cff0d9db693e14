"""The deliveries' bodies and resend chain (migration 0006), on SQLite and PostgreSQL:
the columns come and go with the migration, and which failed deliveries are due again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from shipit.registry import SqlAlchemyRepository
from shipit.registry.monitoring import MonitorState, deliveries

NEW = {"body", "format", "secret_env", "first_at", "resend", "resend_of", "superseded_by"}


def _alembic(registry: SqlAlchemyRepository, step: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from shipit.registry.repository import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with registry.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, step)(cfg, revision)


def _columns(registry: SqlAlchemyRepository) -> set[str]:
    return {c["name"] for c in sa.inspect(registry.engine).get_columns("deliveries")}


def _fail(state: MonitorState, key: str = "shop", **kw: object) -> int:
    return state.record_delivery(
        key, "http://127.0.0.1:9/hook", ["guardrail"], ok=False, attempts=4,
        status_code=None, error="URLError: refused", body=b'{"experiment": "shop"}',
        format="json", secret_env="HOOK_SECRET", **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_migration_0006_adds_nullable_columns_and_drops_them_again(
    registry: SqlAlchemyRepository,
) -> None:
    assert _columns(registry) >= NEW
    with registry.engine.connect() as con:
        assert con.scalar(sa.text("SELECT version_num FROM shipit_alembic_version")) == "0006"
    state = MonitorState(registry.engine)
    _fail(state)
    _alembic(registry, "downgrade", "0005")
    assert not _columns(registry) & NEW
    with registry.engine.connect() as con:  # the row stays, with what 0004 stored
        row = con.execute(sa.text("SELECT experiment_key, ok, attempts FROM deliveries")).one()
    assert tuple(row) == ("shop", False, 4)
    indexes = sa.inspect(registry.engine).get_indexes("deliveries")
    assert any(ix["column_names"] == ["experiment_key"] for ix in indexes)
    registry.migrate()
    assert _columns(registry) >= NEW
    [old] = state.deliveries("shop")  # a row from before 0006: nothing to send again
    assert (old.body, old.resend, old.first_at) == (None, 0, None)
    assert state.to_resend(datetime(2000, 1, 1, tzinfo=UTC), 24) == []


def test_failed_deliveries_are_due_oldest_first_until_superseded_or_out_of_budget(
    registry: SqlAlchemyRepository,
) -> None:
    state = MonitorState(registry.engine)
    since = datetime.now(UTC) - timedelta(hours=24)
    first, second = _fail(state), _fail(state, "cart")
    state.record_delivery("shop", "http://x/hook", [], ok=True, attempts=1, status_code=200)
    due = state.to_resend(since, 24)
    assert [d.id for d in due] == [first, second]
    started = due[0].first_at
    assert started is not None
    # A failed resend supersedes its original and is due in its place, one resend on.
    again = _fail(state, resending=due[0])
    due = state.to_resend(since, 24)
    assert [d.id for d in due] == [second, again]
    chained = due[1]
    assert (chained.resend, chained.resend_of, chained.first_at) == (1, first, started)
    assert state.deliveries("shop")[0].superseded_by == again
    assert [d.id for d in state.to_resend(since, 1)] == [second]  # resent once: budget spent
    # First sent more than a day ago: given up, however many resends are left.
    with registry.engine.begin() as con:
        old = datetime.now(UTC) - timedelta(hours=25)
        con.execute(deliveries.update().where(deliveries.c.id == second).values(first_at=old))
    assert [d.id for d in state.to_resend(since, 24)] == [again]
