"""The keys ingestion has accepted, in memory: 128-bit hashes in sorted NumPy runs.

Deduplicating ``event_id`` against a B-tree on disk costs a page write per key once the
keys are random (UUIDs) and the tree outgrows the cache: at 10M stored keys a 1,000-event
batch rewrote megabytes of pages. Here a key is its BLAKE2b-128 digest, kept in a few
sorted runs (a small log-structured merge: recent runs are merged as they grow), so a
batch costs one hash per key and a binary search per run, whatever the store holds. Two
different keys share a digest with probability about n²/2¹²⁹ (below 10⁻²⁰ at a billion
keys). Nothing here is written to disk: the keys are those of the rows in the store and in
the ingest log, and the index is rebuilt from them when the process starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import blake2b

import numpy as np

__all__ = ["KeyIndex", "hash_keys"]


def hash_keys(keys: Sequence[str]) -> np.ndarray:
    """The BLAKE2b-128 digests of ``keys`` as an ``(n, 2)`` array of uint64."""
    joined = b"".join(blake2b(k.encode(), digest_size=16).digest() for k in keys)
    return np.frombuffer(joined, dtype=np.uint64).reshape(-1, 2)


class _Run:
    """Digests sorted by their first word (``hi``), with the second (``lo``) beside."""

    def __init__(self, digests: np.ndarray) -> None:
        order = np.argsort(digests[:, 0], kind="stable")
        self.hi = np.ascontiguousarray(digests[order, 0])
        self.lo = np.ascontiguousarray(digests[order, 1])

    def __len__(self) -> int:
        return len(self.hi)

    def contains(self, digests: np.ndarray) -> np.ndarray:
        """Which of ``digests`` are in the run."""
        hi, lo = digests[:, 0], digests[:, 1]
        at = np.searchsorted(self.hi, hi)
        inside = at < len(self.hi)
        at = np.where(inside, at, 0)
        same_hi = inside & (self.hi[at] == hi)
        found = same_hi & (self.lo[at] == lo)
        # Different keys sharing the first word (about n/2⁶⁴ per lookup): look further.
        for i in np.flatnonzero(same_hi & ~found):
            j = int(at[i])
            while j < len(self.hi) and self.hi[j] == hi[i]:
                if self.lo[j] == lo[i]:
                    found[i] = True
                    break
                j += 1
        return np.asarray(found, dtype=bool)


class KeyIndex:
    """A set of digests: ``admit`` answers which keys of a batch are new and adds them.

    Not thread-safe: the ingest log calls it under its commit lock. ``mark``/``rollback``
    undo the additions of a commit that failed.
    """

    def __init__(self) -> None:
        self._runs: list[_Run] = []
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, keys: Sequence[str]) -> None:
        """Add ``keys`` (the rows already stored or logged)."""
        if keys:
            digests = hash_keys(keys)
            self._runs.append(_Run(digests))
            self.size += len(digests)
            self.compact()

    def admit(self, keys: Sequence[str | None]) -> list[bool]:
        """Per row: keep it (no key, or the first row of a key not seen before); the kept
        keys are added."""
        given = [i for i, k in enumerate(keys) if k is not None]
        keep = [True] * len(keys)
        if not given:
            return keep
        digests = hash_keys([keys[i] for i in given])  # type: ignore[misc]
        seen = np.zeros(len(digests), dtype=bool)
        for run in self._runs:
            seen |= run.contains(digests)
        first = self._first_in_batch(digests)
        new = first & ~seen
        for i, is_new in zip(given, new.tolist(), strict=True):
            keep[i] = is_new
        if new.any():
            self._runs.append(_Run(digests[new]))
            self.size += int(new.sum())
        return keep

    @staticmethod
    def _first_in_batch(digests: np.ndarray) -> np.ndarray:
        """Which rows are the first of their digest within the batch."""
        first = np.ones(len(digests), dtype=bool)
        if len(np.unique(digests[:, 0])) == len(digests):
            return first
        seen: set[tuple[int, int]] = set()
        for i, (hi, lo) in enumerate(digests.tolist()):
            if (hi, lo) in seen:
                first[i] = False
            seen.add((hi, lo))
        return first

    def mark(self) -> tuple[int, int]:
        """A point to roll back to."""
        return len(self._runs), self.size

    def rollback(self, mark: tuple[int, int]) -> None:
        """Forget what was added since ``mark`` (call before any ``compact``)."""
        del self._runs[mark[0] :]
        self.size = mark[1]

    def compact(self) -> None:
        """Merge the newest runs while the newest is at least half the one before it, so
        a lookup searches O(log n) runs and each digest is merged O(log n) times."""
        runs = self._runs
        while len(runs) >= 2 and 2 * len(runs[-1]) >= len(runs[-2]):
            last, prev = runs.pop(), runs.pop()
            merged = np.empty((len(prev) + len(last), 2), dtype=np.uint64)
            merged[: len(prev), 0], merged[: len(prev), 1] = prev.hi, prev.lo
            merged[len(prev) :, 0], merged[len(prev) :, 1] = last.hi, last.lo
            runs.append(_Run(merged))
