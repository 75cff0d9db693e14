"""The experiment registry: persistence, lifecycle, phases, conflicts and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipit._lazy import lazy_names
from shipit.registry.lifecycle import TRANSITIONS, Decision, Status

if TYPE_CHECKING:
    from shipit.registry.audit import AuditEntry
    from shipit.registry.repository import (
        ExperimentRecord,
        Phase,
        SqlAlchemyRepository,
        default_url,
        open_registry,
    )

__all__ = [
    "TRANSITIONS",
    "AuditEntry",
    "Decision",
    "ExperimentRecord",
    "Phase",
    "SqlAlchemyRepository",
    "Status",
    "default_url",
    "open_registry",
]

# Names backed by SQLAlchemy and Alembic, loaded on first use so the lifecycle enums stay cheap.
_WHERE = {
    "AuditEntry": "shipit.registry.audit",
    "ExperimentRecord": "shipit.registry.repository",
    "Phase": "shipit.registry.repository",
    "SqlAlchemyRepository": "shipit.registry.repository",
    "default_url": "shipit.registry.repository",
    "open_registry": "shipit.registry.repository",
}


__getattr__, __dir__ = lazy_names(globals(), _WHERE)
