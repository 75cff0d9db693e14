"""The experiment registry: persistence, lifecycle, phases, conflicts and the audit log."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

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
_LAZY = {
    "AuditEntry": "shipit.registry.audit",
    "ExperimentRecord": "shipit.registry.repository",
    "Phase": "shipit.registry.repository",
    "SqlAlchemyRepository": "shipit.registry.repository",
    "default_url": "shipit.registry.repository",
    "open_registry": "shipit.registry.repository",
}


def __getattr__(name: str) -> Any:
    """Import the persistence half of the registry only when one of its names is asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
