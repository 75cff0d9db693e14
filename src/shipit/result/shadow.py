"""The result of a shadow run: how often the candidate agrees with production, how their
outputs differ, how fast each answers and how each scores against labels that came later.

Every estimate carries its interval at ``ShadowResult.level``. Means over requests are
ratios of unit sums (requests of one unit are correlated), latency quantiles have the
quantile metrics' delta-method interval, and offline metrics are compared request by
request (the paired difference, candidate − production).
"""

from __future__ import annotations

from shipit.result._values import Frozen as _Frozen
from shipit.result._values import Num

__all__ = [
    "ShadowDisagreement",
    "ShadowDistribution",
    "ShadowEstimate",
    "ShadowLatency",
    "ShadowMetric",
    "ShadowQuantile",
    "ShadowResult",
]


class ShadowEstimate(_Frozen):
    """A mean over requests with its standard error and interval; ``units`` and
    ``requests`` are those with a value."""

    estimate: Num = None
    se: Num = None
    ci_low: Num = None
    ci_high: Num = None
    units: int = 0
    requests: int = 0


class ShadowQuantile(_Frozen):
    """A sample quantile (linear interpolation) and, where given, its interval."""

    q: float
    estimate: Num = None
    ci_low: Num = None
    ci_high: Num = None


class ShadowLatency(_Frozen):
    """One model's latency (milliseconds) quantiles."""

    model: str  # "production" or "candidate"
    variant: str
    requests: int = 0
    quantiles: tuple[ShadowQuantile, ...] = ()


class ShadowDistribution(_Frozen):
    """The distribution of the per-request difference: candidate − production score, or
    the rankings' overlap of their top items."""

    measure: str
    mean: ShadowEstimate
    minimum: Num = None
    maximum: Num = None
    quantiles: tuple[ShadowQuantile, ...] = ()
    edges: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()


class ShadowMetric(_Frozen):
    """An offline metric of both models against the labels, and their paired difference
    (candidate − production) with its two-sided p-value."""

    metric: str
    higher_is_better: bool
    production: ShadowEstimate
    candidate: ShadowEstimate
    difference: ShadowEstimate
    p_value: Num = None


class ShadowDisagreement(_Frozen):
    """A frequent pair of differing labels."""

    production: str
    candidate: str
    requests: int


class ShadowResult(_Frozen):
    """A shadow run's analysis (``Analysis.shadow``)."""

    production: str
    candidate: str
    output: str
    rule: str
    level: float = 0.95
    requests: int = 0
    units: int = 0
    paired: int = 0
    labelled: int = 0
    agreement: ShadowEstimate
    difference: ShadowDistribution | None = None
    latency: tuple[ShadowLatency, ...] = ()
    offline: tuple[ShadowMetric, ...] = ()
    disagreements: tuple[ShadowDisagreement, ...] = ()
