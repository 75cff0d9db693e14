"""Deterministic assignment of units to an experiment's variants, one unit or millions at once.

The checks run in this order, and the first that applies decides:

1. ``excluded``: the unit is in the spec's ``exclude`` list → not enrolled;
2. ``forced``: the unit has a forced variant (QA) → that variant, even with the kill switch
   on, so that QA can still check a variant of a killed experiment on its own accounts;
3. ``kill_switch``: the switch is on → the control variant, for every other unit;
4. ``not_targeted``: the unit's attributes fail the targeting → not enrolled;
5. ``holdout``: the holdout hash is below the holdout fraction → not enrolled;
6. ``outside_namespace``: the namespace hash is outside the experiment's range → not enrolled;
7. the variant hash ``u`` falls in variant i's slice [c_i, c_i + w_i) of [0, 1) (c_i the sum
   of earlier weights); the unit is enrolled (``assigned``) when ``u - c_i < traffic · w_i``,
   else ``outside_traffic``. Ramping traffic up therefore keeps every enrolled unit in its
   variant, and ramping down only removes units.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import accumulate
from typing import Any

import numpy as np
import numpy.typing as npt

from shipit._types import IntArray
from shipit.assign import served_designs as _designs
from shipit.assign.hashing import (
    _GOLDEN,
    _M1,
    _M2,
    _MASK,
    _TO_UNIT,
    UnitBytes,
    as_unit_array,
    hash_batch,
    hash_seeded,
    hash_unit,
    seed_of,
    unit_text,
)
from shipit.assign.hashing import to_unit_bytes as _to_unit_bytes
from shipit.assign.targeting import Columns, match_batch
from shipit.errors import InputError
from shipit.spec.experiment import Experiment
from shipit.spec.shadow import serving_weights

__all__ = ["Assigner", "Assignment", "BatchAssignment", "Reason"]

_CHUNK = 1 << 20


class Reason(StrEnum):
    """Why a unit got its variant, or why it is not in the experiment."""

    ASSIGNED = "assigned"
    FORCED = "forced"
    KILL_SWITCH = "kill_switch"
    EXCLUDED = "excluded"
    NOT_TARGETED = "not_targeted"
    HOLDOUT = "holdout"
    OUTSIDE_NAMESPACE = "outside_namespace"
    OUTSIDE_TRAFFIC = "outside_traffic"


_REASONS = list(Reason)
_CODE = {r: i for i, r in enumerate(_REASONS)}


@dataclass(frozen=True, slots=True)
class Assignment:
    """The variant of one unit (None when not enrolled) and the reason."""

    variant: str | None
    reason: Reason

    @property
    def enrolled(self) -> bool:
        """Whether the unit is in the experiment."""
        return self.variant is not None


@dataclass(frozen=True)
class BatchAssignment:
    """Assignments of many units: variant index per unit (-1 = not enrolled) and reason code."""

    variants: tuple[str, ...]
    index: IntArray
    reason_code: npt.NDArray[np.int8]

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def __getitem__(self, i: int) -> Assignment:
        k = int(self.index[i])
        return Assignment(self.variants[k] if k >= 0 else None, _REASONS[self.reason_code[i]])

    def variant_array(self) -> npt.NDArray[np.object_]:
        """Variant key per unit, None where not enrolled."""
        table = np.array([*self.variants, None], dtype=object)
        return np.asarray(table[self.index], dtype=object)

    def reasons(self) -> list[Reason]:
        """Reason per unit."""
        return [_REASONS[c] for c in self.reason_code.tolist()]

    def counts(self) -> dict[str, int]:
        """Enrolled units per variant."""
        counts = np.bincount(self.index[self.index >= 0], minlength=len(self.variants))
        return dict(zip(self.variants, counts.tolist(), strict=True))


_OUTSIDE_TRAFFIC = Assignment(None, Reason.OUTSIDE_TRAFFIC)


class Assigner:
    """An experiment compiled for assignment: salts hashed, weights accumulated."""

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.version = experiment.hash_version
        self.variants = experiment.variant_keys
        self._weights = serving_weights(experiment)  # a shadow candidate is never served
        self._starts = list(accumulate(self._weights, initial=0.0))[:-1]
        self._control = self.variants.index(experiment.control_variant)
        self._traffic = experiment.traffic
        self._salt = experiment.hash_salt
        self._seed = seed_of(self._salt)
        self._excluded = frozenset(experiment.exclude)
        self._forced = {u: self.variants.index(v) for u, v in experiment.forced.items()}
        self._targeting = experiment.targeting
        self._holdout = experiment.holdout
        self._namespace = experiment.namespace
        self._kill = experiment.kill_switch
        # Seeds of the holdout and namespace salts, hashed once rather than on every call.
        self._holdout_seed = seed_of(self._holdout.hash_salt) if self._holdout else 0
        self._namespace_seed = seed_of(self._namespace.hash_salt) if self._namespace else 0
        # Assignments are immutable: build each possible one once (the single call is hot).
        self._enrolled = [Assignment(v, Reason.ASSIGNED) for v in self.variants]
        self._forced_result = [Assignment(v, Reason.FORCED) for v in self.variants]
        self._limits = [self._traffic * w for w in self._weights]
        # A design (spec ``design:``): the variant hash reads the cluster, or the schedule.
        self._cluster_by = _designs.cluster_attribute(experiment)
        self._switchback = _designs.is_switchback(experiment)
        self._plain = (
            not (self._excluded or self._kill or self._forced or self._targeting is not None)
            and self._holdout is None
            and self._namespace is None
            and self.version == 1
            and experiment.design is None
        )

    def _u(self, unit: str, seed: int, salt: str) -> float:
        """The unit's hash under a salt (``seed`` is that salt's precomputed version-1 seed)."""
        if self.version == 1:
            return hash_seeded(seed, unit.encode("utf-8"))
        return hash_unit(self.version, salt, unit)

    def assign(
        self, unit: str | int | bytes, attributes: Mapping[str, Any] | None = None
    ) -> Assignment:
        """The variant of one unit, or the reason it is not in the experiment."""
        if type(unit) is not str:
            unit = unit_text(unit)
        if self._plain:
            # Hash version 1 written out inline (see hashing.py): the hot path for SDK use.
            data = unit.encode()
            n = len(data)
            h = self._seed ^ ((n * _GOLDEN) & _MASK)
            big = int.from_bytes(data, "little")
            while n > 0:
                h ^= big & _MASK
                big >>= 64
                n -= 8
                h ^= h >> 30
                h = (h * _M1) & _MASK
                h ^= h >> 27
                h = (h * _M2) & _MASK
                h ^= h >> 31
            h ^= h >> 30
            h = (h * _M1) & _MASK
            h ^= h >> 27
            h = (h * _M2) & _MASK
            h ^= h >> 31
            u = (h >> 11) * _TO_UNIT
            i = bisect.bisect_right(self._starts, u) - 1
            if u - self._starts[i] < self._limits[i]:
                return self._enrolled[i]
            return _OUTSIDE_TRAFFIC
        if unit in self._excluded:
            return Assignment(None, Reason.EXCLUDED)
        forced = self._forced.get(unit)
        if forced is not None:
            return self._forced_result[forced]
        if self._kill:
            return Assignment(self.variants[self._control], Reason.KILL_SWITCH)
        if self._targeting is not None and not self._targeting.matches(attributes or {}):
            return Assignment(None, Reason.NOT_TARGETED)
        holdout = self._holdout
        if holdout is not None and (
            self._u(unit, self._holdout_seed, holdout.hash_salt) < holdout.fraction
        ):
            return Assignment(None, Reason.HOLDOUT)
        namespace = self._namespace
        if namespace is not None:
            start, end = namespace.range
            if not start <= self._u(unit, self._namespace_seed, namespace.hash_salt) < end:
                return Assignment(None, Reason.OUTSIDE_NAMESPACE)
        if self._switchback:
            variant = _designs.switchback_variant(self.experiment, unit, attributes)
            return self._enrolled[self.variants.index(variant)]
        key = (
            unit
            if self._cluster_by is None
            else _designs.cluster_key(self._cluster_by, unit, attributes)
        )
        u = self._u(key, self._seed, self._salt)
        i = bisect.bisect_right(self._starts, u) - 1
        if u - self._starts[i] < self._limits[i]:
            return self._enrolled[i]
        return _OUTSIDE_TRAFFIC

    def assign_batch(
        self,
        units: Sequence[str] | npt.NDArray[Any],
        attributes: Columns | None = None,
    ) -> BatchAssignment:
        """Assign many units at once (numpy); equal to ``assign`` unit by unit.

        ``attributes`` maps attribute names to columns aligned with ``units``.
        """
        arr = units if isinstance(units, np.ndarray) else as_unit_array(units)
        n = len(arr)
        for name, col in (attributes or {}).items():
            if len(col) != n:
                raise InputError(f"attribute {name!r} has {len(col)} values for {n} units")
        index = np.empty(n, np.int64)
        reason = np.empty(n, np.int8)
        for lo in range(0, n, _CHUNK):
            hi = min(n, lo + _CHUNK)
            cols = {k: v[lo:hi] for k, v in (attributes or {}).items()}
            index[lo:hi], reason[lo:hi] = self._chunk(arr[lo:hi], cols)
        return BatchAssignment(self.variants, index, reason)

    def _listed(
        self, arr: npt.NDArray[Any], u: npt.NDArray[Any], listed: Mapping[str, int]
    ) -> list[tuple[int, int]]:
        """(position, value) of units named in ``listed``: candidates by hash, checked by text."""
        names = list(listed)
        candidates = np.flatnonzero(np.isin(u, hash_batch(self.version, self._salt, names)))
        found = [(p, unit_text(arr[p])) for p in candidates.tolist()]
        return [(int(p), listed[text]) for p, text in found if text in listed]

    def _hash(self, salt: str, arr: npt.NDArray[Any], ub: UnitBytes | None) -> npt.NDArray[Any]:
        return hash_batch(self.version, salt, ub if ub is not None else arr)

    def _chunk(self, arr: npt.NDArray[Any], cols: Columns) -> tuple[IntArray, npt.NDArray[np.int8]]:
        n = len(arr)
        ub = _to_unit_bytes(arr) if self.version == 1 else None
        u = self._hash(self._salt, arr, ub)  # also finds the forced and excluded units
        hashed = u  # what the variant slices read: the unit, or its cluster (a design)
        if self._cluster_by is not None:
            hashed = self._hash(
                self._salt, _designs.cluster_keys(self._cluster_by, arr, cols), None
            )
        starts = np.asarray(self._starts)
        if len(starts) <= 8:  # a few comparisons beat a binary search per unit
            i = np.zeros(n, np.int64)
            for start in self._starts[1:]:
                i += hashed >= start
        else:
            i = np.searchsorted(starts, hashed, side="right") - 1
        enrolled = (hashed - starts[i]) < np.asarray(self._limits)[i]
        if self._switchback:
            i, enrolled = _designs.switchback_indices(self.experiment, arr, cols), np.ones(n, bool)
        index = np.where(enrolled, i, -1).astype(np.int64)
        reason = np.where(enrolled, _CODE[Reason.ASSIGNED], _CODE[Reason.OUTSIDE_TRAFFIC])
        reason = reason.astype(np.int8)
        # Later checks first, so that earlier ones overwrite: the first that applies decides.
        if self._namespace is not None:
            start, end = self._namespace.range
            un = self._hash(self._namespace.hash_salt, arr, ub)
            outside = ~((un >= start) & (un < end))
            index[outside], reason[outside] = -1, _CODE[Reason.OUTSIDE_NAMESPACE]
        if self._holdout is not None:
            held = self._hash(self._holdout.hash_salt, arr, ub) < self._holdout.fraction
            index[held], reason[held] = -1, _CODE[Reason.HOLDOUT]
        if self._targeting is not None:
            miss = ~match_batch(self._targeting, cols, n)
            index[miss], reason[miss] = -1, _CODE[Reason.NOT_TARGETED]
        if self._kill:
            index[:], reason[:] = self._control, _CODE[Reason.KILL_SWITCH]
        if self._forced:
            for pos, k in self._listed(arr, u, self._forced):
                index[pos], reason[pos] = k, _CODE[Reason.FORCED]
        if self._excluded:
            for pos, _ in self._listed(arr, u, dict.fromkeys(self._excluded, 0)):
                index[pos], reason[pos] = -1, _CODE[Reason.EXCLUDED]
        return index, reason
