"""Guardrails: metrics that must not get worse, by more than a threshold, for a variant to ship."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Guardrail"]


class Guardrail(BaseModel):
    """A metric that must not move in the harmful direction.

    ``direction`` says which way is good (default: the metric's ``higher_is_better``).
    ``threshold``/``relative_threshold`` is the tolerated harm (absolute or relative);
    ``margin``/``relative_margin`` turns the check into a non-inferiority test.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    metric: str = Field(min_length=1)
    direction: Literal["higher_is_better", "lower_is_better"] | None = None
    threshold: float | None = Field(default=None, ge=0)
    relative_threshold: float | None = Field(default=None, ge=0)
    margin: float | None = Field(default=None, ge=0)
    relative_margin: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_of_each(self) -> Guardrail:
        if self.threshold is not None and self.relative_threshold is not None:
            raise ValueError("give threshold or relative_threshold, not both")
        if self.margin is not None and self.relative_margin is not None:
            raise ValueError("give margin or relative_margin, not both")
        return self
