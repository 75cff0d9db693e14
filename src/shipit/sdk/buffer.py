"""A bounded outbox of rows waiting to be sent: full means the newest rows are dropped and
counted, never silently lost."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

__all__ = ["Outbox"]


class Outbox:
    """Thread-safe FIFO of JSON rows with a capacity."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.dropped = 0
        self._rows: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    def put(self, rows: list[dict[str, Any]]) -> int:
        """Add rows; returns how many were dropped because the outbox was full."""
        with self._lock:
            room = max(0, self.capacity - len(self._rows))
            self._rows.extend(rows[:room])
            lost = len(rows) - min(room, len(rows))
            self.dropped += lost
            return lost

    def take(self, n: int) -> list[dict[str, Any]]:
        """Remove and return up to ``n`` rows from the front."""
        with self._lock:
            k = min(n, len(self._rows))
            return [self._rows.popleft() for _ in range(k)]

    def put_back(self, rows: list[dict[str, Any]]) -> None:
        """Return rows that could not be sent to the front (dropping the newest if full)."""
        with self._lock:
            self._rows.extendleft(reversed(rows))
            while len(self._rows) > self.capacity:
                self._rows.pop()
                self.dropped += 1
