"""A small time-bounded cache: API-key checks and compiled assigners are reused for
``cache_seconds`` (so a revocation or a stop takes effect within that time on every replica).

An entry used after half its life is made again in a background thread while the old one is
still served (it is younger than ``ttl`` until then): under steady traffic an entry never
expires, so requests do not all miss at once every ``ttl`` seconds and queue behind the
registry; a value is never served older than ``ttl``.
"""

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
        self._refreshing: set[K] = set()
        self._generation = 0  # bumped by discard/clear: a refresh begun before is dropped

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The value for ``key``, made (and kept) when missing or stale; past half its life
        it is made again in the background."""
        if self.ttl <= 0:
            return make()
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            if now - hit[0] >= self.ttl / 2:
                self._refresh(key, make)
            return hit[1]
        generation = self._generation
        value = make()
        self._store(key, now, value, generation)
        return value

    def _store(self, key: K, made_at: float, value: V, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return  # discarded while it was being made
            if len(self._items) >= self.max_items:
                self._items.clear()
            self._items[key] = (made_at, value)

    def _refresh(self, key: K, make: Callable[[], V]) -> None:
        """Make ``key`` again in a thread, once at a time (an error drops the entry, so the
        next request meets the error itself)."""
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)
            generation = self._generation

        def run() -> None:
            made_at = time.monotonic()
            try:
                value = make()
            except Exception:
                self.discard(key)
            else:
                self._store(key, made_at, value, generation)
            finally:
                with self._lock:
                    self._refreshing.discard(key)

        threading.Thread(target=run, name="shipit-cache-refresh", daemon=True).start()

    def peek(self, key: K, make: Callable[[], V] | None = None) -> V | None:
        """The cached value if younger than ``ttl`` seconds, else None (nothing is made
        now; with ``make``, an entry past half its life is made again in the background)."""
        hit = self._items.get(key) if self.ttl > 0 else None
        if hit is not None:
            age = time.monotonic() - hit[0]
            if age < self.ttl:
                if make is not None and age >= self.ttl / 2:
                    self._refresh(key, make)
                return hit[1]
        return None

    def discard(self, key: K) -> None:
        """Forget one key (its value changed)."""
        with self._lock:
            self._items.pop(key, None)
            self._generation += 1

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
            self._generation += 1
