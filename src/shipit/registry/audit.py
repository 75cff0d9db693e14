"""The append-only audit log: who changed what, when (the database refuses edits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from shipit.registry.tables import audit_log

__all__ = ["AuditEntry", "diff", "record"]


@dataclass(frozen=True)
class AuditEntry:
    """One change: which experiment, when, who, what action, and its details."""

    id: int
    experiment_key: str
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]


def record(
    conn: sa.Connection, key: str, at: datetime, actor: str, action: str, details: dict[str, Any]
) -> None:
    """Append an entry (inside the caller's transaction)."""
    conn.execute(
        audit_log.insert().values(
            experiment_key=key, at=at, actor=actor, action=action, details=details
        )
    )


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """Top-level fields that changed, as {field: [old, new]}."""
    return {
        k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
    }
