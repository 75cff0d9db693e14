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

from collections.abc import Iterable, Sequence
from hashlib import blake2b

import numpy as np

__all__ = ["KeyIndex", "hash_keys"]


def hash_keys(keys: Sequence[str]) -> np.ndarray:
    """The BLAKE2b-128 digests of ``keys`` as an ``(n, 2)`` array of uint64."""
    joined = b"".join(blake2b(k.encode(), digest_size=16).digest() for k in keys)
    return np.frombuffer(joined, dtype=np.uint64).reshape(-1, 2)


# Runs at least this long get a bucket table: a lookup then reads two or three cache lines
# instead of one per step of a binary search over megabytes.
_BUCKETED = 1 << 16


class _Run:
    """Digests sorted by their first word (``hi``), with the second (``lo``) beside; a long
    run also keeps where each bucket of the top bits of ``hi`` starts (digests are
    uniform, so a bucket holds a few)."""

    def __init__(self, digests: np.ndarray) -> None:
        order = np.argsort(digests[:, 0], kind="stable")
        self.hi = np.ascontiguousarray(digests[order, 0])
        self.lo = np.ascontiguousarray(digests[order, 1])
        self.bits = 0
        self.starts: np.ndarray | None = None
        n = len(self.hi)
        if n >= _BUCKETED:
            self.bits = max(n.bit_length() - 2, 1)  # two to four digests a bucket
            edges = np.arange(1 << self.bits, dtype=np.uint64) << np.uint64(64 - self.bits)
            starts = np.searchsorted(self.hi, edges)
            self.starts = np.append(starts, n).astype(np.int32 if n < 2**31 else np.int64)

    def __len__(self) -> int:
        return len(self.hi)

    def contains(self, digests: np.ndarray) -> np.ndarray:
        """Which of ``digests`` are in the run."""
        hi, lo = digests[:, 0], digests[:, 1]
        if self.starts is not None:
            bucket = (hi >> np.uint64(64 - self.bits)).astype(np.int64)
            start = self.starts[bucket].astype(np.int64)
            end = self.starts[bucket + 1].astype(np.int64)
        else:
            start = np.searchsorted(self.hi, hi)
            end = np.full(len(hi), len(self.hi), dtype=np.int64)
        found = np.zeros(len(hi), dtype=bool)
        # Step through the candidates of every digest at once; a digest stops at a match
        # or at the first larger first word (the run is sorted).
        pos = start.astype(np.int64)
        active = np.flatnonzero(pos < end)
        while len(active):
            at = pos[active]
            run_hi = self.hi[at]
            match = (run_hi == hi[active]) & (self.lo[at] == lo[active])
            found[active[match]] = True
            pos[active] += 1
            going = ~match & (run_hi <= hi[active]) & (pos[active] < end[active])
            active = active[going]
        return found


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
        self.add_chunks([keys])

    def add_chunks(self, chunks: Iterable[Sequence[str]]) -> None:
        """Add the keys of every chunk as one run (one sort, for the store's keys at start)."""
        parts = [hash_keys(keys) for keys in chunks if keys]
        if parts:
            digests = np.concatenate(parts) if len(parts) > 1 else parts[0]
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
        # Searched in sorted order: each binary search starts where the last one ended,
        # which keeps a large run's pages in cache.
        order = np.argsort(digests[:, 0])
        ordered = digests[order]
        seen_sorted = np.zeros(len(digests), dtype=bool)
        for run in self._runs:
            seen_sorted |= run.contains(ordered)
        seen = np.empty_like(seen_sorted)
        seen[order] = seen_sorted
        first = self._first_in_batch(digests, ordered[:, 0])
        new = first & ~seen
        for i, is_new in zip(given, new.tolist(), strict=True):
            keep[i] = is_new
        if new.any():
            self._runs.append(_Run(digests[new]))
            self.size += int(new.sum())
        return keep

    @staticmethod
    def _first_in_batch(digests: np.ndarray, sorted_hi: np.ndarray) -> np.ndarray:
        """Which rows are the first of their digest within the batch."""
        first = np.ones(len(digests), dtype=bool)
        if not (sorted_hi[1:] == sorted_hi[:-1]).any():
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
