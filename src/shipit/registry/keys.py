"""API keys of the server: stored hashed (salted SHA-256), looked up by a public prefix.

A key reads ``shipit_<prefix>_<secret>``; only the prefix, a per-key salt and
``sha256(salt + secret)`` are stored, so a leaked database does not leak usable keys.
Scopes: ``sdk`` (assign, send events and exposures, read the features payload), ``read``
(read experiments, history, analyses, the dashboard and metrics; no changes) and ``admin``
(everything).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

import sqlalchemy as sa

from shipit.errors import AuthError, InputError, NotFoundError
from shipit.registry.engine import reading

__all__ = ["SCOPES", "ApiKey", "KeyRepository", "NewKey", "Scope", "api_keys"]

Scope = Literal["sdk", "read", "admin"]
SCOPES: tuple[str, ...] = get_args(Scope)
_PREFIX_BYTES = 6
_SECRET_BYTES = 24

# The tables are created by the registry's Alembic migration 0002; this is their mirror.
metadata = sa.MetaData()
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("prefix", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    prefix: str
    name: str
    scope: Scope
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """Whether the key still works."""
        return self.revoked_at is None


@dataclass(frozen=True)
class NewKey:
    """A key just created: the secret token is shown once and never stored."""

    key: ApiKey
    token: str


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}{secret}".encode()).hexdigest()


def _row(r: sa.Row[tuple[object, ...]]) -> ApiKey:
    m = r._mapping
    return ApiKey(m["prefix"], m["name"], m["scope"], m["created_at"], m["revoked_at"])


class KeyRepository:
    """Create, list, revoke and verify API keys in the registry database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str | None = None) -> KeyRepository:
        """Keys in the registry database at ``url`` (default: the project's SQLite file),
        migrated to the newest schema."""
        from shipit.registry.repository import open_registry

        return cls(open_registry(url).engine)

    def create(self, name: str, scope: str) -> NewKey:
        """A new key with ``scope``; the returned token is the only copy of the secret."""
        if scope not in SCOPES:
            raise InputError(f"unknown scope {scope!r}: use one of {list(SCOPES)}")
        if not name.strip():
            raise InputError("a key needs a name (who or what uses it)")
        prefix = secrets.token_hex(_PREFIX_BYTES)
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        salt = secrets.token_hex(16)
        now = datetime.now(UTC)
        with self.engine.begin() as con:
            con.execute(
                api_keys.insert().values(
                    prefix=prefix,
                    name=name,
                    scope=scope,
                    salt=salt,
                    digest=_digest(salt, secret),
                    created_at=now,
                    revoked_at=None,
                )
            )
        key = ApiKey(prefix, name, scope, now, None)  # type: ignore[arg-type]
        return NewKey(key, f"shipit_{prefix}_{secret}")

    def list(self) -> list[ApiKey]:
        """Every key, newest first, revoked ones included."""
        with reading(self.engine) as con:
            rows = con.execute(api_keys.select().order_by(api_keys.c.created_at.desc())).all()
        return [_row(r) for r in rows]

    def revoke(self, prefix: str) -> ApiKey:
        """Revoke a key by its prefix (idempotent); NotFoundError if there is none."""
        with self.engine.begin() as con:
            row = con.execute(api_keys.select().where(api_keys.c.prefix == prefix)).first()
            if row is None:
                raise NotFoundError(f"no API key with prefix {prefix!r} (see `shipit keys list`)")
            if row._mapping["revoked_at"] is None:
                con.execute(
                    api_keys.update()
                    .where(api_keys.c.prefix == prefix)
                    .values(revoked_at=datetime.now(UTC))
                )
            row = con.execute(api_keys.select().where(api_keys.c.prefix == prefix)).one()
        return _row(row)

    def verify(self, token: str) -> ApiKey:
        """The active key behind ``token``; AuthError when it is malformed, unknown or revoked."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "shipit" or not parts[1] or not parts[2]:
            raise AuthError("malformed API key: expected shipit_<prefix>_<secret>")
        prefix, secret = parts[1], parts[2]
        with reading(self.engine) as con:
            row = con.execute(api_keys.select().where(api_keys.c.prefix == prefix)).first()
        if row is None:
            raise AuthError("unknown API key")
        m = row._mapping
        if not hmac.compare_digest(m["digest"], _digest(m["salt"], secret)):
            raise AuthError("unknown API key")
        if m["revoked_at"] is not None:
            raise AuthError(f"API key {prefix} was revoked")
        return _row(row)
