"""What metrics hands to analysis: one summary per metric over the same structured groups.

A group is a ``GroupKey`` (variant, segment, day as fields). Callers look groups up by key
(``MetricMoments.rows``), never by building label strings; the labels inside a summary
(``GroupKey.label``) are opaque to them and collision-free whatever the values contain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

import numpy as np

from shipit._types import FloatArray
from shipit.errors import InputError
from shipit.stats.moments import Moments

__all__ = ["GroupKey", "MetricMoments", "Summary"]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("/", "\\/").replace("@", "\\@")


@dataclass(frozen=True)
class GroupKey:
    """What a group of units is: its variant, and segment or day when asked for."""

    variant: str
    segment: str | None = None
    day: str | None = None

    @property
    def label(self) -> str:
        """The summary's row label: ``variant``, ``variant/segment`` or ``variant@day``.

        ``\\``, ``/`` and ``@`` inside the values are escaped with ``\\``, so two different
        keys never share a label (plain values read as before).
        """
        text = _escape(self.variant)
        if self.segment is not None:
            text += "/" + _escape(self.segment)
        if self.day is not None:
            text += "@" + _escape(self.day)
        return text

    @classmethod
    def of_row(cls, result: Mapping[str, Sequence[Any]], keys: Sequence[str], i: int) -> GroupKey:
        """The group of row ``i`` of a query result: its variant, and its segment and day
        (as text, a day as its ISO date) where ``keys`` has them."""
        return cls(
            str(result["variant"][i]),
            _text(result["segment"][i]) if "segment" in keys else None,
            _text(result["day"][i]) if "day" in keys else None,
        )


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@runtime_checkable
class Summary(Protocol):
    """What the engine computed for one metric, one row per group (``Moments`` for the
    moment kinds; a kind may bring its own type). ``n`` is the units of each group."""

    @property
    def n(self) -> FloatArray: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class MetricMoments:
    """A summary per metric (same groups for all, in ``groups`` order), plus the exposure
    sanity counts."""

    metrics: Mapping[str, Summary]
    groups: tuple[GroupKey, ...]
    multi_variant_units: int
    pre_phase_exposures: int
    sql: str = field(repr=False)
    # (metric, z) -> the pooled winsorizing cap of a winsorized metric (not by day).
    caps: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def __getitem__(self, metric: str) -> Summary:
        try:
            return self.metrics[metric]
        except KeyError:
            raise InputError(f"no metric {metric!r} among {list(self.metrics)}") from None

    def moments(self, metric: str) -> Moments:
        """The metric's summary when it is ``Moments`` (InputError otherwise)."""
        summary = self[metric]
        if not isinstance(summary, Moments):
            raise InputError(f"metric {metric!r} has a {type(summary).__name__}, not moments")
        return summary

    def rows(self, keys: Sequence[GroupKey]) -> list[int]:
        """Positions of the groups ``keys`` in every summary (InputError if one is absent)."""
        index = {g: i for i, g in enumerate(self.groups)}
        missing = [k for k in keys if k not in index]
        if missing:
            raise InputError(f"no group {missing[0]} among {len(self.groups)} groups")
        return [index[k] for k in keys]

    def units(self, keys: Sequence[GroupKey]) -> FloatArray:
        """Units in each of the groups ``keys`` (0 for a group that is not there)."""
        index = {g: i for i, g in enumerate(self.groups)}
        n = next(iter(self.metrics.values())).n if self.metrics else np.zeros(0)
        return np.array([n[index[k]] if k in index else 0.0 for k in keys], dtype=np.float64)

    @property
    def segments(self) -> list[str]:
        """The segment values, in group order."""
        return list(dict.fromkeys(g.segment for g in self.groups if g.segment is not None))

    @property
    def days(self) -> list[str]:
        """The days, in group order."""
        return list(dict.fromkeys(g.day for g in self.groups if g.day is not None))

    def over_segments(self, variants: Sequence[str]) -> MetricMoments | None:
        """Each variant's moments summed over its segments: the overall moments when the
        segments partition the units. None when a summary is not ``Moments`` (a kind with
        a summary of its own does not add up)."""
        if not all(isinstance(m, Moments) for m in self.metrics.values()):
            return None
        groups = tuple(GroupKey(v) for v in variants)
        rows = [[i for i, g in enumerate(self.groups) if g.variant == v] for v in variants]
        out: dict[str, Summary] = {}
        for name, m in self.metrics.items():
            assert isinstance(m, Moments)
            matrix = np.stack([m.matrix[r].sum(axis=0) for r in rows]) if rows else m.matrix[:0]
            out[name] = Moments(tuple(g.label for g in groups), m.names, matrix)
        sql = f"-- each variant's sums over the segments of:\n{self.sql}"
        return MetricMoments(
            out, groups, self.multi_variant_units, self.pre_phase_exposures, sql, self.caps
        )
