"""A small time-bounded cache: API-key checks and compiled assigners are reused for
``cache_seconds`` (so a revocation or a stop takes effect within that time on every replica)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["TtlCache"]

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """``get(key, make)``: the cached value if younger than ``ttl`` seconds, else ``make()``.

    Errors raised by ``make`` are not cached. ``ttl <= 0`` disables caching.
    """

    def __init__(self, ttl: float, max_items: int = 10_000) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self._items: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The value for ``key``, made (and kept) when missing or stale."""
        if self.ttl <= 0:
            return make()
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = make()
        with self._lock:
            if len(self._items) >= self.max_items:
                self._items.clear()
            self._items[key] = (now, value)
        return value

    def peek(self, key: K) -> V | None:
        """The cached value if younger than ``ttl`` seconds, else None (nothing is made)."""
        hit = self._items.get(key) if self.ttl > 0 else None
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        return None

    def discard(self, key: K) -> None:
        """Forget one key (its value changed)."""
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
