"""The bandit part of an analysis: adaptive-aware estimates per variant and the best one.

A bandit serves more of what looked good, so plain means are biased; these estimates
weight each unit by the inverse of the probability its entry period gave its variant
(Horvitz–Thompson), and their intervals are normal ones on those weighted terms.
"""

from __future__ import annotations

from shipit.result._values import Frozen as _Frozen
from shipit.result._values import Num

__all__ = ["BanditArm", "BanditPeriodSummary", "BanditResult"]


class BanditArm(_Frozen):
    """One variant: units, the inverse-propensity mean with its interval, the plain mean
    beside it, the difference from the control, and P(best)."""

    variant: str
    units: int
    mean: Num = None
    se: Num = None
    ci_low: Num = None
    ci_high: Num = None
    naive_mean: Num = None
    effect: Num = None
    effect_ci_low: Num = None
    effect_ci_high: Num = None
    p_best: Num = None
    weight_now: Num = None


class BanditPeriodSummary(_Frozen):
    """One allocation period: when it started, the weights it served and its units."""

    number: int
    started_at: str
    weights: dict[str, float]
    units: dict[str, int]


class BanditResult(_Frozen):
    """The adaptive-aware analysis of a bandit experiment."""

    reward: str
    policy: str
    estimator: str = "ipw"
    alpha: float = 0.05
    best: str | None = None
    p_best: Num = None
    arms: tuple[BanditArm, ...] = ()
    periods: tuple[BanditPeriodSummary, ...] = ()
