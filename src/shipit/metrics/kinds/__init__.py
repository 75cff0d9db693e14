"""Metric kinds as plug-ins: each kind says what the engine computes for it and how
variants compare (see ``base`` for the protocol and how to add a kind)."""

from __future__ import annotations

from shipit.metrics.kinds.base import (
    Comparison,
    MetricKind,
    SummarySource,
    UnitValue,
    kind_of,
    register,
    registered,
)
from shipit.metrics.kinds.funnel import FUNNEL
from shipit.metrics.kinds.mean import MEAN
from shipit.metrics.kinds.moment import MomentKind
from shipit.metrics.kinds.proportion import PROPORTION
from shipit.metrics.kinds.quantile import QUANTILE
from shipit.metrics.kinds.rank import RANK
from shipit.metrics.kinds.ratio import RATIO

__all__ = [
    "Comparison",
    "MetricKind",
    "MomentKind",
    "SummarySource",
    "UnitValue",
    "kind_of",
    "register",
    "registered",
]

# One line per kind.
register(PROPORTION)
register(MEAN)
register(RATIO)
register(QUANTILE)
register(FUNNEL)
register(RANK)
