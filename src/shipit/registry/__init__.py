"""The experiment registry: persistence, lifecycle, phases, conflicts and the audit log."""

from __future__ import annotations

from shipit.registry.audit import AuditEntry
from shipit.registry.lifecycle import TRANSITIONS, Decision, Status
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
