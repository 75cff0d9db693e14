"""Result values of the stats engine: arrays over comparisons, with a status per row.

A degenerate comparison (too few units, no variance, a zero control mean) is not an
exception: its row carries a reason code and NaN in the numbers it cannot give, and
``records()`` turns those NaN into ``None`` so that no NaN is passed off as a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray

__all__ = ["ComparisonResult", "Status", "to_python"]


class Status(StrEnum):
    """Why a comparison row could not give (all of) its numbers; ``ok`` if it could."""

    OK = "ok"
    TOO_FEW_UNITS = "too_few_units"
    ZERO_VARIANCE = "zero_variance"
    ZERO_DENOMINATOR = "zero_denominator"
    ZERO_CONTROL_MEAN = "zero_control_mean"


@dataclass(frozen=True)
class ComparisonResult:
    """A variant-vs-control comparison for each row, vectorized.

    Intervals are two-sided at 1 − alpha for a two-sided test; for a one-sided test they
    are the 1 − 2·alpha interval, whose bound on the tested side is the one-sided bound.
    """

    n_control: FloatArray
    n_variant: FloatArray
    mean_control: FloatArray
    mean_variant: FloatArray
    abs_effect: FloatArray
    abs_se: FloatArray
    abs_ci_low: FloatArray
    abs_ci_high: FloatArray
    rel_effect: FloatArray
    rel_se: FloatArray
    rel_ci_low: FloatArray
    rel_ci_high: FloatArray
    statistic: FloatArray
    df: FloatArray
    p_value: FloatArray
    cohens_d: FloatArray
    status: npt.NDArray[np.str_]

    def __len__(self) -> int:
        return len(self.status)

    def records(self) -> list[dict[str, Any]]:
        """One plain dict per row, NaN and infinities as ``None``."""
        cols = {f.name: getattr(self, f.name) for f in fields(self)}
        return [
            {name: to_python(values[i]) for name, values in cols.items()} for i in range(len(self))
        ]


def to_python(value: Any) -> Any:
    """A numpy scalar as a JSON-safe Python value (non-finite floats become ``None``)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
