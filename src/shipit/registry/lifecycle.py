"""The lifecycle state machine: draft → running → stopped → decided → archived."""

from __future__ import annotations

from enum import StrEnum

from shipit.errors import StateError
from shipit.spec.decision import Decision  # what was decided: the verdict's vocabulary

__all__ = ["TRANSITIONS", "Decision", "Status", "check_transition"]


class Status(StrEnum):
    """Where an experiment is in its life."""

    DRAFT = "draft"
    RUNNING = "running"
    STOPPED = "stopped"
    DECIDED = "decided"
    ARCHIVED = "archived"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.RUNNING, Status.ARCHIVED}),
    Status.RUNNING: frozenset({Status.STOPPED}),
    Status.STOPPED: frozenset({Status.DECIDED}),
    Status.DECIDED: frozenset({Status.ARCHIVED}),
    Status.ARCHIVED: frozenset(),
}

_VERB = {
    Status.RUNNING: "start",
    Status.STOPPED: "stop",
    Status.DECIDED: "decide",
    Status.ARCHIVED: "archive",
}


def check_transition(key: str, current: Status, target: Status) -> None:
    """Raise StateError unless ``current → target`` is allowed."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is final)"
        raise StateError(
            f"cannot {_VERB.get(target, target.value)} experiment {key!r}: it is {current}; "
            f"from {current} it can go to {allowed}"
        )
