"""API keys and saved analyses in the registry database (SQLite always, PostgreSQL where it
runs): stored hashed, verified by prefix, revoked for good."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from shipit.errors import AuthError, InputError, NotFoundError
from shipit.registry import SqlAlchemyRepository
from shipit.registry.analyses import AnalysisRepository
from shipit.registry.keys import KeyRepository, api_keys


def test_create_verify_list_revoke(registry: SqlAlchemyRepository) -> None:
    keys = KeyRepository(registry.engine)
    sdk = keys.create("web", "sdk")
    admin = keys.create("ops", "admin")
    assert keys.verify(sdk.token).scope == "sdk"
    assert keys.verify(admin.token).name == "ops"
    assert {k.prefix for k in keys.list()} == {sdk.key.prefix, admin.key.prefix}
    assert keys.revoke(sdk.key.prefix).revoked_at is not None
    assert keys.revoke(sdk.key.prefix).revoked_at is not None  # idempotent
    with pytest.raises(AuthError, match="revoked"):
        keys.verify(sdk.token)
    assert keys.verify(admin.token).active


def test_only_a_salted_hash_is_stored(registry: SqlAlchemyRepository) -> None:
    keys = KeyRepository(registry.engine)
    new = keys.create("web", "sdk")
    secret = new.token.split("_", 2)[2]
    with registry.engine.connect() as conn:
        row = conn.execute(sa.select(api_keys)).one()._mapping
    assert secret not in str(dict(row))
    assert row["digest"] == hashlib.sha256(f"{row['salt']}{secret}".encode()).hexdigest()


@pytest.mark.parametrize(
    "token",
    ["", "shipit", "shipit__x", "bearer_abc_def", "shipit_0000_nope"],
)
def test_bad_tokens_are_refused(registry: SqlAlchemyRepository, token: str) -> None:
    keys = KeyRepository(registry.engine)
    good = keys.create("web", "sdk")
    with pytest.raises(AuthError):
        keys.verify(token)
    with pytest.raises(AuthError, match="unknown"):
        keys.verify(good.token[:-1] + ("A" if good.token[-1] != "A" else "B"))


def test_bad_input(registry: SqlAlchemyRepository) -> None:
    keys = KeyRepository(registry.engine)
    with pytest.raises(InputError, match="scope"):
        keys.create("web", "root")
    with pytest.raises(InputError, match="name"):
        keys.create("  ", "sdk")
    with pytest.raises(NotFoundError, match="abc"):
        keys.revoke("abc")


def test_analyses_keep_the_latest(registry: SqlAlchemyRepository) -> None:
    saved = AnalysisRepository(registry.engine)
    with pytest.raises(NotFoundError, match="no analysis yet"):
        saved.latest("checkout")
    saved.save("checkout", '{"n": 1}', actor="a")
    saved.save("other", '{"n": 9}', actor="a")
    saved.save("checkout", '{"n": 2}', actor="b")
    latest = saved.latest("checkout")
    assert (latest.body, latest.actor) == ('{"n": 2}', "b")
