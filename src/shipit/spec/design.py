"""Randomization designs a spec can ask for: stratified, blocked, cluster, switchback and
ego-network clusters of a graph (interference).

The design says how units are assigned (``shipit.assign.designs``) and, as a consequence,
which variance the analysis must use: cluster-robust for cluster designs, time blocks with
the burn-in left out for switchbacks, and within-stratum estimators for stratified ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "BlockedDesign",
    "ClusterDesign",
    "Design",
    "EgoClusterDesign",
    "StratifiedDesign",
    "SwitchbackDesign",
]

_ATTR = Field(min_length=1, max_length=200)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class StratifiedDesign(_Frozen):
    """Exact balance within each stratum, the combination of the attributes ``by``."""

    kind: Literal["stratified"]
    by: tuple[Annotated[str, _ATTR], ...] = Field(min_length=1)


class BlockedDesign(_Frozen):
    """Blocks of ``block_size`` consecutive units (sorted by ``order_by``, a numeric
    attribute such as a pre-period metric), each balanced exactly; the default block size
    is the smallest that gives each variant a whole number of units."""

    kind: Literal["blocked"]
    block_size: int | None = Field(default=None, ge=2)
    order_by: str | None = Field(default=None, min_length=1, max_length=200)


class ClusterDesign(_Frozen):
    """Every unit of a cluster (the attribute ``by``: a city, a team) gets one variant; the
    analysis treats the cluster as the unit."""

    kind: Literal["cluster"]
    by: str = _ATTR


class SwitchbackDesign(_Frozen):
    """Each region (attribute ``by``; one region when absent) switches variant every
    ``interval_hours`` from ``start``; the first ``burn_in_minutes`` of each interval are left
    out of the analysis (carry-over from the previous interval)."""

    kind: Literal["switchback"]
    interval_hours: float = Field(gt=0)
    burn_in_minutes: float = Field(default=0.0, ge=0)
    by: str | None = Field(default=None, min_length=1, max_length=200)
    start: datetime | None = None

    @model_validator(mode="after")
    def _burn_in_shorter(self) -> SwitchbackDesign:
        if self.burn_in_minutes >= 60 * self.interval_hours:
            raise ValueError(
                f"burn_in_minutes ({self.burn_in_minutes:g}) must be shorter than the "
                f"interval ({60 * self.interval_hours:g} minutes)"
            )
        return self

    @property
    def period(self) -> timedelta:
        """The length of one interval."""
        return timedelta(hours=self.interval_hours)

    @property
    def burn_in(self) -> timedelta:
        """The part of each interval left out of the analysis."""
        return timedelta(minutes=self.burn_in_minutes)


class EgoClusterDesign(_Frozen):
    """Randomization on a graph: ``edges`` (a CSV or Parquet file, or ``engine:TABLE``, with
    columns ``unit_id`` and ``neighbour_id``) is cut into ego-network clusters (a unit and
    its not yet clustered neighbours, by falling degree), each cluster given one variant.
    Each unit's cluster id is stored as its exposure attribute ``by``. The analysis is
    cluster-robust over those clusters, and adds the exposure analysis: each unit's share
    of treated neighbours (computed in the engine by a join over the edges), the direct and
    spillover effects, and the effect on units whose neighbourhood is mostly treated
    (share ≥ ``threshold``) against those whose neighbourhood is mostly control
    (share ≤ 1 − ``threshold``)."""

    kind: Literal["ego_cluster"]
    edges: str = Field(min_length=1, max_length=1000)
    by: str = Field(default="ego_cluster", min_length=1, max_length=200)
    threshold: float = Field(default=0.75, gt=0.5, le=1.0)


Design = Annotated[
    StratifiedDesign | BlockedDesign | ClusterDesign | SwitchbackDesign | EgoClusterDesign,
    Field(discriminator="kind"),
]
