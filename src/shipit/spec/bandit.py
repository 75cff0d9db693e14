"""The bandit block of a spec: how an adaptive experiment moves its traffic.

A ``type: bandit`` experiment starts from its variants' weights; every ``update_every`` the
policy turns the reward metric's per-variant summaries into the next allocation period's
weights, each variant keeping at least ``min_share``. The logged weights of each period are
the propensities the analysis weights by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shipit.spec._problems import Loc
from shipit.spec.monitoring import parse_every

__all__ = ["BanditPolicy", "BanditSpec", "bandit_problems"]

# The policies a spec may name (those of ``shipit.bandits.policies`` that serve traffic).
BanditPolicy: TypeAlias = Literal["thompson", "top_two", "gaussian_thompson", "ucb", "egreedy"]


class BanditSpec(BaseModel):
    """Policy, reward metric, update period and the floor on each variant's share."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    policy: BanditPolicy = "thompson"
    reward: str = Field(min_length=1, max_length=200, description="metric the policy maximizes")
    update_every: str = Field(default="1h", description="length of an allocation period")
    min_share: float = Field(default=0.05, ge=0.0, le=1.0)
    burn_in: int = Field(default=0, ge=0, description="units per variant before adapting")
    epsilon: float = Field(default=0.1, ge=0.0, le=1.0, description="egreedy exploration")
    seed: int = 0

    @field_validator("update_every")
    @classmethod
    def _every(cls, value: str) -> str:
        parse_every(value)
        return value

    @property
    def update_seconds(self) -> float:
        """The length of an allocation period in seconds."""
        return parse_every(self.update_every)


def bandit_problems(
    kind: str, bandit: BanditSpec | None, variants: int, metrics: Mapping[str, str]
) -> list[tuple[Loc, str]]:
    """Cross-field rules of a bandit: the type and the block go together, the reward is a
    known metric of a kind the policy can use, and the floors leave room to adapt.

    ``metrics`` maps each known metric's name to its base kind (proportion, mean, ...).
    """
    if kind != "bandit":
        if bandit is not None:
            return [(("bandit",), f"a bandit block needs type: bandit (type is {kind!r})")]
        return []
    if bandit is None:
        return [(("bandit",), "type: bandit needs a bandit block (policy, reward, ...)")]
    out: list[tuple[Loc, str]] = []
    if bandit.reward not in metrics:
        known = ", ".join(sorted(metrics)) or "none are defined"
        out.append((("bandit", "reward"), f"unknown metric {bandit.reward!r} (known: {known})"))
    elif metrics[bandit.reward] not in ("proportion", "mean"):
        out.append(
            (
                ("bandit", "reward"),
                f"metric {bandit.reward!r} is a {metrics[bandit.reward]} metric; a reward is "
                "a per-unit proportion or mean",
            )
        )
    if bandit.min_share * variants > 1.0 + 1e-12:
        out.append(
            (
                ("bandit", "min_share"),
                f"{bandit.min_share:g} × {variants} variants = "
                f"{bandit.min_share * variants:g} > 1: lower it to at most {1 / variants:.4g}",
            )
        )
    return out
