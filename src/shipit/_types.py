"""Type aliases shared across packages."""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
IntArray: TypeAlias = npt.NDArray[np.int64]

UnitId: TypeAlias = str
VariantKey: TypeAlias = str

MetricKind: TypeAlias = Literal["proportion", "mean", "ratio"]
Alternative: TypeAlias = Literal["two-sided", "greater", "less"]
Correction: TypeAlias = Literal[
    "none", "bonferroni", "holm", "bh", "sidak", "holm_sidak", "hochberg", "hommel", "by"
]
Method: TypeAlias = Literal["frequentist", "bayesian", "sequential"]
