"""The decision rules' settings: what the plan says the verdict must honour."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shipit.result.model import Method

__all__ = ["DecisionPolicy", "GuardrailPolicy"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GuardrailPolicy(_Frozen):
    """A guardrail: the metric, the worst acceptable change and whether it is relative."""

    metric: str
    margin: float = Field(ge=0)
    relative: bool = True


class DecisionPolicy(_Frozen):
    """The decision rules' settings, taken from the experiment's analysis plan."""

    method: Method = "frequentist"
    primary: str
    alpha: float = Field(default=0.05, gt=0, lt=1)
    power: float = Field(default=0.8, gt=0, lt=1)
    mde: float = Field(default=0.0, ge=0)
    mde_relative: bool = True
    guardrails: tuple[GuardrailPolicy, ...] = ()
    prob_threshold: float = Field(default=0.95, gt=0.5, lt=1)
    loss_threshold: float = Field(default=0.001, ge=0)
    weights: dict[str, float] = Field(default_factory=dict)
    holdout_percent: float = Field(default=5.0, ge=0, lt=50)
