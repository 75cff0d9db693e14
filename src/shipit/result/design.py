"""The design block of an analysis: which randomization the variance follows.

An experiment whose spec names a design (``design:``) is analysed with the matching
variance; this block says which one, over how many clusters, blocks or strata, and how far
the unit-level (naive) standard error would have been off (the design effect).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shipit.result._values import Frozen as _Frozen
from shipit.result._values import Num

__all__ = [
    "DesignComparison",
    "DesignInfo",
    "DesignKind",
    "ExposureAnalysis",
    "ExposureEstimate",
    "UnitOfAnalysis",
]

DesignKind = Literal["cluster", "switchback", "stratified", "blocked", "ego_cluster"]
UnitOfAnalysis = Literal["cluster", "block", "unit"]


class DesignComparison(_Frozen):
    """One metric and variant: the design's standard error beside the unit-level one.

    ``design_effect`` is (se / naive_se)²: how many times the naive variance understates
    (above 1) or overstates (below 1) the design's."""

    metric: str
    variant: str
    se: Num = None
    naive_se: Num = None
    design_effect: Num = None
    naive_p_value: Num = None


class ExposureEstimate(_Frozen):
    """One effect of the exposure analysis, in the metric's unit, with its interval."""

    estimate: Num = None
    se: Num = None
    ci_low: Num = None
    ci_high: Num = None
    p_value: Num = None


class ExposureAnalysis(_Frozen):
    """Interference: effects by each unit's share of treated neighbours (ego-cluster designs).

    ``direct`` is the effect of a unit's own treatment at a fixed neighbourhood, ``spillover``
    that of going from no treated neighbour to all of them, ``total`` their sum (everyone
    treated against no one), from the cluster-robust regression y ~ t + f. ``contrast`` is
    the difference in means between treated units whose neighbourhood is mostly treated
    (share ≥ ``threshold``) and control units whose neighbourhood is mostly control."""

    metric: str
    edges: str
    threshold: float
    units: int = 0
    units_with_neighbours: int = 0
    clusters: int = 0
    direct: ExposureEstimate = ExposureEstimate()
    spillover: ExposureEstimate = ExposureEstimate()
    total: ExposureEstimate = ExposureEstimate()
    contrast: ExposureEstimate = ExposureEstimate()
    units_mostly_treated: int = 0
    units_mostly_control: int = 0
    treated_share_mostly_treated: Num = None
    treated_share_mostly_control: Num = None


class DesignInfo(_Frozen):
    """What was randomized and which variance the effects use."""

    kind: DesignKind
    unit_of_analysis: UnitOfAnalysis
    variance: str = Field(description="the variance the effects the verdict reads use")
    by: tuple[str, ...] = ()
    clusters: dict[str, int] | None = Field(
        default=None, description="clusters per variant (cluster and ego-cluster designs)"
    )
    blocks: dict[str, int] | None = Field(
        default=None, description="time blocks per variant (switchbacks)"
    )
    strata: int | None = None
    interval_hours: float | None = None
    burn_in_minutes: float | None = None
    comparisons: tuple[DesignComparison, ...] = ()
    exposure: ExposureAnalysis | None = None
    notes: tuple[str, ...] = ()
