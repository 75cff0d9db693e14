"""The analysis plan: how the experiment will be judged, fixed before it starts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shipit._types import Alternative, Correction, Method

__all__ = ["AnalysisPlan", "BayesianPlan", "Prior", "SequentialPlan"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class SequentialPlan(_Frozen):
    """Settings for looking at the data while it accrues.

    ``msprt``: always-valid mixture SPRT with mixing variance ``tau`` (squared effect scale);
    valid at any number of looks.
    ``gst``: group-sequential test with ``looks`` planned analyses at equal information up
    to ``horizon`` units per variant (required), spending alpha with ``spending``. An
    analysis at information fraction t counts as looks taken the earlier analyses recorded
    in the registry, or else the planned looks k/looks below t, plus itself (see
    docs/sequential.md).
    """

    kind: Literal["msprt", "gst"] = "msprt"
    tau: float | None = Field(default=None, gt=0)
    horizon: int | None = Field(default=None, gt=0)
    spending: Literal["obrien_fleming", "pocock"] = "obrien_fleming"
    looks: int = Field(default=5, ge=1, le=100)


class Prior(_Frozen):
    """Prior on the relative effect: flat, or normal(mean, sd)."""

    kind: Literal["flat", "normal"] = "flat"
    mean: float = 0.0
    sd: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _sd_for_normal(self) -> Prior:
        if self.kind == "normal" and self.sd is None:
            raise ValueError("a normal prior needs sd")
        if self.kind == "flat" and self.sd is not None:
            raise ValueError("a flat prior takes no sd")
        return self


class BayesianPlan(_Frozen):
    """Decision thresholds for Bayesian analysis."""

    prior: Prior = Prior()
    prob_threshold: float = Field(default=0.95, gt=0.5, lt=1)
    loss_tolerance: float = Field(default=0.001, ge=0)


class AnalysisPlan(_Frozen):
    """Method, error rates, minimum detectable effect, corrections, CUPED and segments."""

    method: Method = "frequentist"
    alpha: float = Field(default=0.05, gt=0, lt=1)
    power: float = Field(default=0.8, gt=0, lt=1)
    mde: float | None = Field(default=None, gt=0)
    mde_relative: bool = True
    alternative: Alternative = "two-sided"
    correction: Correction = "holm"
    sequential: SequentialPlan = SequentialPlan()
    bayesian: BayesianPlan = BayesianPlan()
    cuped: bool = True
    segments: tuple[str, ...] = ()
    # The sample-ratio mismatch check fails below this p-value.
    srm_threshold: float = Field(default=0.001, gt=0, lt=1)
