"""The summary of a ``shipit stats`` request: its rows, their comparisons, the extras."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shipit._types import BoolArray, FloatArray
from shipit.analysis.given.inputs import StatsInput
from shipit.stats.comparison import Comparison
from shipit.stats.results import ComparisonResult
from shipit.stats.srm import SrmResult

__all__ = ["ResultRow", "RowComparison", "StatsSummary"]


@dataclass(frozen=True)
class ResultRow:
    """Which comparison a result row is: metric (by position), variant and control."""

    metric_index: int
    metric: str
    kind: str
    variant: str
    control: str


@dataclass(frozen=True)
class RowComparison:
    """Where a result row sits in the vectorized ``Comparison`` it was computed in."""

    comparison: Comparison
    at: int


@dataclass(frozen=True)
class StatsSummary:
    """Every comparison of a request, in output order, with the correction applied.

    ``compared[i]`` is the kind's comparison of row ``i`` (raw, CUPED when the metric has
    covariates, the group estimates a posterior starts from); ``extras[i]`` holds keys that
    method-specific steps add to result ``i``.
    """

    input: StatsInput
    rows: tuple[ResultRow, ...]
    result: ComparisonResult
    p_value_adjusted: FloatArray
    significant: BoolArray
    srm: SrmResult | None
    extras: tuple[dict[str, Any], ...]
    metrics: tuple[dict[str, Any], ...] = ()
    compared: tuple[RowComparison, ...] = ()
