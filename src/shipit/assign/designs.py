"""Offline designs for cohort experiments: stratified, blocked, cluster and switchback.

All are deterministic given the salt: a unit's random order comes from the versioned hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from shipit._types import BoolArray, IntArray
from shipit.assign.hashing import hash_batch
from shipit.errors import InputError

__all__ = ["SwitchbackSchedule", "blocked", "cluster", "stratified", "switchback"]

_TOL = 1e-9


def _weights(variants: Sequence[str], weights: Sequence[float] | None) -> npt.NDArray[np.float64]:
    if len(variants) < 2 or len(set(variants)) != len(variants):
        raise InputError(f"need at least two distinct variants, got {list(variants)}")
    w = np.full(len(variants), 1 / len(variants)) if weights is None else np.asarray(weights, float)
    if w.shape != (len(variants),) or (w < 0).any() or abs(w.sum() - 1) > _TOL:
        raise InputError(f"weights must be one per variant, non-negative, summing to 1: {weights}")
    return w


def _labels(values: Sequence[Any] | npt.NDArray[Any]) -> tuple[npt.NDArray[Any], IntArray]:
    """Each value's label (its text) and a code per value: the same labels, and codes that
    group the same values, whether integers are compared as numbers (fast) or as text."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        uniques, inverse = np.unique(arr, return_inverse=True)
        return uniques.astype(str), inverse.reshape(-1).astype(np.int64)
    uniques, inverse = np.unique(arr.astype(str), return_inverse=True)
    return uniques, inverse.reshape(-1).astype(np.int64)


def stratified(
    units: Sequence[str] | npt.NDArray[Any],
    strata: Sequence[Any] | npt.NDArray[Any],
    variants: Sequence[str],
    weights: Sequence[float] | None = None,
    *,
    salt: str,
) -> npt.NDArray[np.str_]:
    """Within each stratum, give each variant round(n·w) units exactly (largest remainder),
    choosing which units by their hash order; leftover units go to variants in a hashed order
    per stratum, so no variant is favoured across strata."""
    w = _weights(variants, weights)
    units_arr = np.asarray(units)
    if len(strata) != len(units_arr):
        raise InputError(f"{len(strata)} strata for {len(units_arr)} units")
    names, s = _labels(strata)
    u = hash_batch(1, salt, units_arr.astype(str))
    order = np.lexsort((u, s))
    sizes = np.bincount(s, minlength=len(names))
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    position = np.empty(len(s), np.int64)
    position[order] = np.arange(len(s)) - first[s[order]]
    exact = sizes[:, None] * w[None, :]
    counts = np.floor(exact + _TOL).astype(np.int64)
    short = sizes - counts.sum(axis=1)
    # Leftovers: by largest remainder, ties broken by a hash of (stratum, variant).
    tie = hash_batch(
        1,
        salt + "/remainder",
        np.char.add(np.repeat(names, len(w)).astype(str), np.tile(np.array(variants), len(names))),
    )
    rank = np.lexsort((tie.reshape(len(names), -1), -(exact - counts)), axis=1)
    bonus = np.zeros_like(counts)
    take = np.arange(len(w))[None, :] < short[:, None]
    np.put_along_axis(bonus, rank, take.astype(np.int64), axis=1)
    cum = np.cumsum(counts + bonus, axis=1)
    index = (position[:, None] >= cum[s]).sum(axis=1)
    out: npt.NDArray[np.str_] = np.asarray(variants)[index]
    return out


def blocked(
    units: Sequence[str] | npt.NDArray[Any],
    variants: Sequence[str],
    block_size: int,
    order_by: Sequence[float] | npt.NDArray[Any] | None = None,
    weights: Sequence[float] | None = None,
    *,
    salt: str,
) -> npt.NDArray[np.str_]:
    """Blocks of ``block_size`` consecutive units (sorted by ``order_by`` if given, e.g. a
    pre-period metric), each balanced exactly as ``stratified`` balances a stratum."""
    w = _weights(variants, weights)
    per_block = block_size * w
    if block_size < len(variants) or np.abs(per_block - np.round(per_block)).max() > _TOL:
        raise InputError(
            f"block size {block_size} must give each variant a whole number of units "
            f"(weights {w.tolist()})"
        )
    n = len(units)
    order = np.arange(n) if order_by is None else np.argsort(np.asarray(order_by), kind="stable")
    if order_by is not None and len(order_by) != n:
        raise InputError(f"{len(order_by)} order_by values for {n} units")
    block = np.empty(n, np.int64)
    block[order] = np.arange(n) // block_size
    return stratified(units, block, variants, w.tolist(), salt=salt)


def cluster(
    clusters: Sequence[Any] | npt.NDArray[Any],
    variants: Sequence[str],
    weights: Sequence[float] | None = None,
    *,
    salt: str,
    hash_version: int = 1,
) -> npt.NDArray[np.str_]:
    """Every unit of a cluster (a city, a graph community) gets the cluster's variant, drawn
    from the hash of the cluster id."""
    w = _weights(variants, weights)
    names, inverse = _labels(clusters)
    u = hash_batch(hash_version, salt, names)
    starts = np.concatenate([[0.0], np.cumsum(w)[:-1]])
    index = np.searchsorted(starts, u, side="right") - 1
    return np.asarray(variants)[index[inverse]]


@dataclass(frozen=True)
class SwitchbackSchedule:
    """Time slices × regions, each with a variant; the first ``burn_in`` of each slice is left
    out of the analysis (carry-over from the previous slice)."""

    regions: tuple[str, ...]
    start: datetime
    period: timedelta
    burn_in: timedelta
    variants: tuple[str, ...]
    index: IntArray  # (regions, slices) variant index

    @property
    def slices(self) -> int:
        """The number of time slices."""
        return int(self.index.shape[1])

    def rows(self) -> list[dict[str, Any]]:
        """One row per (region, slice): region, start, end, analysis_start, variant."""
        out = []
        for r, region in enumerate(self.regions):
            for k in range(self.slices):
                begin = self.start + k * self.period
                out.append(
                    {
                        "region": region,
                        "start": begin,
                        "end": begin + self.period,
                        "analysis_start": begin + self.burn_in,
                        "variant": self.variants[int(self.index[r, k])],
                    }
                )
        return out

    def lookup(
        self, regions: Sequence[str], times: Sequence[datetime]
    ) -> tuple[npt.NDArray[Any], BoolArray]:
        """Variant (None outside the schedule) and burn-in flag for events at (region, time)."""
        r_of = {name: i for i, name in enumerate(self.regions)}
        r = np.array([r_of.get(x, -1) for x in regions], np.int64)
        offset = np.array([(t - self.start) / self.period for t in times], float)
        k = np.floor(offset).astype(np.int64)
        inside = (r >= 0) & (k >= 0) & (k < self.slices)
        table = np.array([*self.variants, None], dtype=object)
        idx = np.full(len(r), len(self.variants))
        idx[inside] = self.index[r[inside], k[inside]]
        burn = inside & ((offset - k) * self.period < self.burn_in)
        return table[idx], burn


def switchback(
    regions: Sequence[str],
    start: datetime,
    end: datetime,
    period: timedelta,
    variants: Sequence[str],
    *,
    salt: str,
    burn_in: timedelta = timedelta(0),
    weights: Sequence[float] | None = None,
) -> SwitchbackSchedule:
    """A switchback schedule: each region switches variant every ``period`` (hash of
    region and slice number), with a burn-in at the start of each slice."""
    w = _weights(variants, weights)
    if period <= timedelta(0) or end <= start:
        raise InputError("switchback needs a positive period and end after start")
    if not timedelta(0) <= burn_in < period:
        raise InputError(f"burn-in {burn_in} must be shorter than the period {period}")
    slices = int(np.ceil((end - start) / period))
    keys = np.array([f"{region}/{k}" for region in regions for k in range(slices)])
    u = hash_batch(1, salt, keys)
    starts = np.concatenate([[0.0], np.cumsum(w)[:-1]])
    index = (np.searchsorted(starts, u, side="right") - 1).reshape(len(regions), slices)
    return SwitchbackSchedule(
        tuple(regions), start, period, burn_in, tuple(variants), index.astype(np.int64)
    )
