"""The keys ingestion has accepted, in memory: 128-bit hashes in sorted NumPy runs.

Deduplicating ``event_id`` against a B-tree on disk costs a page write per key once the
keys are random (UUIDs) and the tree outgrows the cache: at 10M stored keys a 1,000-event
batch rewrote megabytes of pages. Here a key is a 128-bit digest computed with NumPy over
the Arrow string buffer (no Python object per key), kept in a few sorted runs (a small
log-structured merge: recent runs are merged as they grow), so a batch costs a handful of
array operations per run, whatever the store holds. Nothing here is written to disk: the
keys are those of the rows in the store and in the ingest log, and the index is rebuilt
from them when the process starts, so the hash is keyed by a seed drawn per process.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TypeAlias

import numpy as np
import pyarrow as pa

__all__ = ["KeyIndex", "hash_keys"]

Keys: TypeAlias = pa.Array | pa.ChunkedArray | Sequence[str | None]

# Two lanes of 64 bits, each a chain of MurmurHash3's 64-bit finalizer (a bijection with
# full avalanche) over the key's 8-byte words, started from the key's length and a seed.
_SEED = np.frombuffer(os.urandom(16), dtype=np.uint64).reshape(1, 2).copy()
_LANE = np.array([[0x9E3779B97F4A7C15, 0xD6E8FEB86659FD93]], dtype=np.uint64)
_M1, _M2, _S = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53), np.uint64(33)
_CHUNK = 8192  # rows padded at once (bounds the temporary arrays of long keys)


def _mix(h: np.ndarray) -> None:
    h ^= h >> _S
    h *= _M1
    h ^= h >> _S
    h *= _M2
    h ^= h >> _S


def _strings(keys: Keys) -> pa.Array:
    """``keys`` as one Arrow string array (nulls kept)."""
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks() if keys.num_chunks != 1 else keys.chunk(0)
    if not isinstance(keys, pa.Array):
        return pa.array(keys, pa.string())
    if keys.type != pa.string():
        keys = keys.cast(pa.string())
    return keys


def _padded(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The keys' bytes as rows of 8-byte words, zero-padded to the longest."""
    n, longest = len(starts), int(lengths.max())
    width = -(-longest // 8) * 8
    if longest and (lengths == longest).all() and (np.diff(starts) == longest).all():
        block = data[int(starts[0]) : int(starts[0]) + n * longest].reshape(n, longest)
        if width == longest:
            return np.ascontiguousarray(block).view("<u8")
        out = np.zeros((n, width), dtype=np.uint8)
        out[:, :longest] = block
        return out.view("<u8")
    cols = np.arange(width, dtype=np.int64)
    out = np.zeros((n, width), dtype=np.uint8)
    valid = cols[None, :] < lengths[:, None]
    out[valid] = data[(starts[:, None] + cols[None, :])[valid]]
    return out.view("<u8")


def hash_keys(keys: Keys) -> np.ndarray:
    """The 128-bit digests of ``keys`` as an ``(n, 2)`` array of uint64 (a null hashes like
    the empty key: leave nulls out before comparing)."""
    arr = _strings(keys)
    n = len(arr)
    out = np.empty((n, 2), dtype=np.uint64)
    if not n:
        return out
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, np.int32, n + 1, arr.offset * 4).astype(np.int64)
    data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(8, np.uint8)
    for lo in range(0, n, _CHUNK):
        hi = min(lo + _CHUNK, n)
        starts = offsets[lo:hi]
        lengths = offsets[lo + 1 : hi + 1] - starts
        h = _SEED ^ lengths.astype(np.uint64)[:, None]
        _mix(h)
        if lengths.max() > 0:
            # A key's digest reads its own words only: rows ordered by their number of
            # words, longest first, so the rows a word exists for are a prefix.
            counts = (lengths + 7) // 8
            same = int(counts.min()) == int(counts.max())
            order = np.arange(hi - lo) if same else np.argsort(-counts, kind="stable")
            words = _padded(data, starts[order], lengths[order])
            h = h[order]
            rows = np.searchsorted(-counts[order], -np.arange(1, words.shape[1] + 1), "right")
            for j, k in enumerate(rows.tolist()):
                part = h[:k]
                part ^= words[:k, j : j + 1]
                part *= _LANE
                _mix(part)
            out[lo + order] = h
        else:
            out[lo:hi] = h
    return out


# Runs at least this long get a bucket table: a lookup then reads two or three cache lines
# instead of one per step of a binary search over megabytes.
_BUCKETED = 1 << 16


class _Run:
    """Digests sorted by their first word (``hi``), with the second (``lo``) beside; a long
    run also keeps where each bucket of the top bits of ``hi`` starts (digests are
    uniform, so a bucket holds a few)."""

    def __init__(self, digests: np.ndarray, *, ordered: bool = False) -> None:
        if ordered:
            hi, lo = digests[:, 0], digests[:, 1]
        else:
            order = np.argsort(digests[:, 0], kind="stable")
            hi, lo = digests[order, 0], digests[order, 1]
        self._set(np.ascontiguousarray(hi), np.ascontiguousarray(lo))

    def _set(self, hi: np.ndarray, lo: np.ndarray) -> None:
        self.hi, self.lo = hi, lo
        self.bits = 0
        self.starts: np.ndarray | None = None
        n = len(hi)
        if n >= _BUCKETED:
            self.bits = max(n.bit_length() - 2, 1)  # two to four digests a bucket
            bucket = (hi >> np.uint64(64 - self.bits)).astype(np.int64)
            counts = np.bincount(bucket, minlength=1 << self.bits)
            starts = np.zeros(len(counts) + 1, dtype=np.int32 if n < 2**31 else np.int64)
            np.cumsum(counts, out=starts[1:])
            self.starts = starts

    @classmethod
    def merged(cls, older: _Run, newer: _Run) -> _Run:
        """One run of the digests of both (linear: ``newer``'s digests are inserted where
        a binary search puts them, nothing is sorted again)."""
        n = len(older) + len(newer)
        at = np.searchsorted(older.hi, newer.hi, side="right") + np.arange(len(newer))
        hi = np.empty(n, dtype=np.uint64)
        lo = np.empty(n, dtype=np.uint64)
        rest = np.ones(n, dtype=bool)
        rest[at] = False
        hi[at], lo[at] = newer.hi, newer.lo
        hi[rest], lo[rest] = older.hi, older.lo
        run = cls.__new__(cls)
        run._set(hi, lo)
        return run

    def __len__(self) -> int:
        return len(self.hi)

    def contains(self, digests: np.ndarray) -> np.ndarray:
        """Which of ``digests`` are in the run."""
        hi, lo = digests[:, 0], digests[:, 1]
        if self.starts is not None:
            bucket = (hi >> np.uint64(64 - self.bits)).astype(np.int64)
            pos = self.starts[bucket].astype(np.int64)
            end = self.starts[bucket + 1].astype(np.int64)
        else:
            pos = np.searchsorted(self.hi, hi).astype(np.int64)
            end = None
        found = np.zeros(len(hi), dtype=bool)
        # Step through the candidates of every digest at once; a digest stops at a match
        # or at the first larger first word (the run is sorted).
        limit = len(self.hi)
        active = np.flatnonzero(pos < (end if end is not None else limit))
        while len(active):
            at = pos[active]
            run_hi = self.hi[at]
            want = hi[active]
            match = (run_hi == want) & (self.lo[at] == lo[active])
            found[active[match]] = True
            at += 1
            pos[active] = at
            going = ~match & (run_hi <= want) & (at < (end[active] if end is not None else limit))
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

    def add(self, keys: Keys) -> None:
        """Add ``keys`` (the rows already stored or logged; nulls are left out)."""
        self.add_chunks([keys])

    def add_chunks(self, chunks: Iterable[Keys]) -> None:
        """Add the keys of every chunk as one run (one sort, for the store's keys at start)."""
        parts = []
        for keys in chunks:
            arr = _strings(keys)
            if arr.null_count:
                arr = arr.drop_null()
            if len(arr):
                parts.append(hash_keys(arr))
        if parts:
            digests = np.concatenate(parts) if len(parts) > 1 else parts[0]
            self._runs.append(_Run(digests))
            self.size += len(digests)
            self.compact()

    def admit(self, keys: Keys) -> np.ndarray:
        """Per row: keep it (no key, or the first row of a key not seen before); the kept
        keys are added. A boolean array."""
        arr = _strings(keys)
        keep = np.ones(len(arr), dtype=bool)
        given: np.ndarray | None = None
        if arr.null_count:
            given = np.flatnonzero(arr.is_valid().to_numpy(zero_copy_only=False))
            if not len(given):
                return keep
            arr = arr.take(pa.array(given))
        if not len(arr):
            return keep
        digests = hash_keys(arr)
        # Searched in sorted order: each lookup starts near where the last one ended, which
        # keeps a large run's pages in cache; a repeat inside the batch sits next to its
        # first row (equal first words are ordered by the second, then by position).
        order = np.argsort(digests[:, 0], kind="stable")
        ordered = digests[order]
        same_hi = ordered[1:, 0] == ordered[:-1, 0]
        if same_hi.any():
            order = np.lexsort((np.arange(len(digests)), digests[:, 1], digests[:, 0]))
            ordered = digests[order]
            same_hi = ordered[1:, 0] == ordered[:-1, 0]
        repeat = np.zeros(len(ordered), dtype=bool)
        repeat[1:] = same_hi & (ordered[1:, 1] == ordered[:-1, 1])
        new_sorted = ~repeat
        for run in self._runs:
            new_sorted &= ~run.contains(ordered)
        new = np.empty_like(new_sorted)
        new[order] = new_sorted
        if given is None:
            keep = new
        else:
            keep[given] = new
        added = int(new_sorted.sum())
        if added:
            self._runs.append(_Run(ordered[new_sorted], ordered=True))
            self.size += added
        return keep

    def mark(self) -> tuple[int, int]:
        """A point to roll back to."""
        return len(self._runs), self.size

    def rollback(self, mark: tuple[int, int]) -> None:
        """Forget what was added since ``mark`` (call before any ``compact``)."""
        del self._runs[mark[0] :]
        self.size = mark[1]

    def compact(self, limit: int | None = None) -> None:
        """Merge the newest runs while the newest is at least half the one before it, so
        a lookup searches O(log n) runs and each digest is merged O(log n) times; with
        ``limit``, only merges whose result is at most that long (``merge_step`` does the
        others)."""
        runs = self._runs
        while len(runs) >= 2 and 2 * len(runs[-1]) >= len(runs[-2]):
            if limit is not None and len(runs[-1]) + len(runs[-2]) > limit:
                return
            last, prev = runs.pop(), runs.pop()
            runs.append(_Run.merged(prev, last))
            del last, prev

    def due_merge(self) -> tuple[_Run, _Run] | None:
        """The newest pair of neighbouring runs that ``compact`` would merge, if any."""
        runs = self._runs
        for i in range(len(runs) - 1, 0, -1):
            if 2 * len(runs[i]) >= len(runs[i - 1]):
                return runs[i - 1], runs[i]
        return None

    @staticmethod
    def merge(older: _Run, newer: _Run) -> _Run:
        """The run a ``due_merge`` pair becomes (runs never change, so no lock is needed:
        the caller swaps it in with ``replace``)."""
        return _Run.merged(older, newer)

    def replace(self, older: _Run, newer: _Run, merged: _Run) -> bool:
        """Put ``merged`` in place of the neighbours ``older`` and ``newer`` if they are
        still there (False: the runs changed meanwhile; nothing is done)."""
        runs = self._runs
        for i in range(len(runs) - 1):
            if runs[i] is older and runs[i + 1] is newer:
                runs[i : i + 2] = [merged]
                return True
        return False
