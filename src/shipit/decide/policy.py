"""The decision rules' settings: what the plan says the verdict must honour."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shipit._types import Correction
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
    correction: Correction = "holm"
    secondary: tuple[str, ...] = ()

    @property
    def family(self) -> tuple[str, ...]:
        """The metrics whose comparisons are corrected together: primary and secondaries."""
        return tuple(dict.fromkeys((self.primary, *self.secondary)))

    def comparison_alpha(self, treatments: int) -> float:
        """The level of each variant's sequential test: α/k across k treatments (Bonferroni).

        Group-sequential and always-valid tests have no step-wise correction of their
        boundaries, so every correction but ``none`` becomes Bonferroni here.
        """
        k = max(1, treatments)
        return self.alpha if self.correction == "none" else self.alpha / k

    def ship_probability(self, treatments: int) -> float:
        """The P(better) a variant needs under the Bayesian rule: 1 − (1 − threshold)/k.

        Under the null with a flat prior P(better) is uniform, so each treatment passes with
        probability (1 − threshold)/k and any of k with at most 1 − threshold (Bonferroni).
        """
        k = max(1, treatments)
        t = self.prob_threshold
        return t if self.correction == "none" else 1.0 - (1.0 - t) / k
