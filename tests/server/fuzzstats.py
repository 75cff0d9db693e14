"""Counts of the bounded fuzz runs (schemathesis and the hand-written corpus), printed at the
end of the test session: cases tried, 5xx replies, crashes (dropped connections, timeouts)."""

from __future__ import annotations

from collections import Counter

__all__ = ["FUZZ", "record"]

FUZZ: Counter[str] = Counter()


def record(source: str, status: int | None) -> None:
    """Count one case: its reply status, or None when the server did not answer."""
    FUZZ[f"{source} cases"] += 1
    if status is None:
        FUZZ[f"{source} crashes"] += 1
    elif status >= 500:
        FUZZ[f"{source} 5xx"] += 1
