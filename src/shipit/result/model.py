"""The analysis value: every number of one experiment's analysis, typed and serializable.

These frozen pydantic models are what ``shipit.analysis`` fills and what every report
renders; they sit beside ``decide``, so reports need nothing of the rules. Non-finite
floats are stored as ``None`` so that no NaN passes for a number and the JSON form
(``shipit.result.schema``) round-trips exactly. ``SCHEMA_VERSION`` changes only when a
field is removed or changes meaning; added fields keep it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shipit.result._values import Frozen as _Frozen
from shipit.result._values import Num
from shipit.result.bandit import BanditResult
from shipit.result.design import DesignInfo
from shipit.result.interleaving import InterleavingResult
from shipit.result.shadow import ShadowResult
from shipit.spec.decision import Decision

__all__ = [
    "SCHEMA_VERSION",
    "Analysis",
    "CheckStatus",
    "CupedInfo",
    "DailyEffect",
    "Decision",
    "Effect",
    "Estimate",
    "FunnelStep",
    "GuardrailResult",
    "Heterogeneity",
    "Light",
    "PowerInfo",
    "RankEstimate",
    "RolloutStep",
    "SegmentEffect",
    "SequentialBounds",
    "TrustCheck",
    "Verdict",
]

SCHEMA_VERSION = "1"

Light = Literal["green", "yellow", "red"]
CheckStatus = Literal["pass", "warn", "fail"]
Method = Literal["frequentist", "bayesian", "sequential"]


class Estimate(_Frozen):
    """One effect of variant vs control: absolute and relative, each with its interval."""

    abs_effect: Num = None
    abs_se: Num = None
    abs_ci_low: Num = None
    abs_ci_high: Num = None
    rel_effect: Num = None
    rel_se: Num = None
    rel_ci_low: Num = None
    rel_ci_high: Num = None
    p_value: Num = None
    p_value_adjusted: Num = None
    status: str = "ok"


class SequentialBounds(_Frozen):
    """Where the sequential test stands: its boundaries at the current information."""

    lower: Num = None
    upper: Num = None
    statistic: Num = None
    information_fraction: Num = None
    crossed: Literal["upper", "lower", "none"] = "none"


class CupedInfo(_Frozen):
    """What the CUPED adjustment of one effect did: θ per pre-period covariate (0 for one
    it dropped), the variance reduction 1 − Var(adjusted)/Var(raw), and the units an
    unadjusted analysis would need for the same precision."""

    variance_reduction: Num = None
    equivalent_n: Num = None
    theta: dict[str, Num] = Field(default_factory=dict)


class RankEstimate(_Frozen):
    """A rank test's numbers (``test: mann_whitney``): U of the variant, z, p, and the
    probability of superiority P(variant > control) + ½·P(tie) with its interval."""

    u: Num = None
    z: Num = None
    p_value: Num = None
    prob_superiority: Num = None
    ci_low: Num = None
    ci_high: Num = None


class Effect(_Frozen):
    """One metric for one variant against control: raw and CUPED-adjusted side by side."""

    metric: str
    variant: str
    control: str
    kind: str = "mean"  # the metric's kind (metrics.kinds): proportion, mean, ratio, ...
    higher_is_better: bool = True
    n_control: int = 0
    n_variant: int = 0
    mean_control: Num = None
    mean_variant: Num = None
    raw: Estimate = Estimate()
    adjusted: Estimate | None = None
    prob_better: Num = None
    expected_loss: Num = None
    sequential: SequentialBounds | None = None
    cuped: CupedInfo | None = None
    rank: RankEstimate | None = None
    # interval: bootstrap: the share of resampled effects on the far side of zero, beside
    # the raw (Normal) p-value the verdict reads.
    bootstrap_p_value: Num = None

    @property
    def best(self) -> Estimate:
        """The estimate to act on: CUPED-adjusted when present, raw otherwise."""
        return self.adjusted if self.adjusted is not None else self.raw


class SegmentEffect(_Frozen):
    """A metric's effect within one segment (dimension = value).

    ``estimate`` is the one to act on (CUPED-adjusted when the analysis has it); ``raw``
    keeps the unadjusted estimate beside it when the two differ.
    """

    dimension: str
    segment: str
    metric: str
    variant: str
    n_control: int = 0
    n_variant: int = 0
    estimate: Estimate = Estimate()
    raw: Estimate | None = None


class Heterogeneity(_Frozen):
    """Cochran's Q across the segments of one dimension: do the effects differ at all?"""

    dimension: str
    metric: str
    variant: str
    q: Num = None
    df: int = 0
    p_value: Num = None
    i_squared: Num = None
    strongest: str | None = None
    weakest: str | None = None


class DailyEffect(_Frozen):
    """The cumulative effect up to a day, with sequential bounds where the plan has them."""

    day: int
    date: str | None = None
    metric: str
    variant: str
    n_control: int = 0
    n_variant: int = 0
    estimate: Estimate = Estimate()
    bound_low: Num = None
    bound_high: Num = None


class TrustCheck(_Frozen):
    """A check run before any effect is believed; ``fail`` halts the reading."""

    name: str
    status: CheckStatus
    message: str
    statistic: Num = None
    p_value: Num = None
    details: dict[str, Num | str] = Field(default_factory=dict)


class GuardrailResult(_Frozen):
    """A guardrail as a non-inferiority test against its margin, as a traffic light."""

    metric: str
    variant: str
    margin: float
    relative: bool = True
    higher_is_better: bool = True
    estimate: Num = None
    ci_low: Num = None
    ci_high: Num = None
    p_non_inferior: Num = None
    p_worse: Num = None
    light: Light
    message: str


class PowerInfo(_Frozen):
    """The achieved sample against the plan, and what more it would take."""

    metric: str
    mde: float
    relative: bool = True
    alpha: float = 0.05
    power: float = 0.8
    units_per_variant: int = 0
    planned_units_per_variant: int | None = None
    needed_units_per_variant: int | None = None
    achieved_power: Num = None
    reachable_mde: Num = None
    extra_units: int | None = None
    extra_days: int | None = None


class RolloutStep(_Frozen):
    """One step of a staged rollout and what rolls it back."""

    percent: float
    min_days: int
    rollback_if: tuple[str, ...] = ()


class Verdict(_Frozen):
    """The decision, the variant it concerns, and its reasons tied to numbers."""

    decision: Decision
    variant: str | None = None
    runner_up: str | None = None
    segments: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    extra_units: int | None = None
    extra_days: int | None = None
    rollout: tuple[RolloutStep, ...] = ()
    holdout_percent: float | None = None
    pareto: tuple[str, ...] = ()
    utility: dict[str, Num] = Field(default_factory=dict)


class FunnelStep(_Frozen):
    """One step of a funnel metric in one variant: the units that did every step up to
    this one in order, their share of the exposed units and the conversion from the
    previous step (the first step's is its share), each with a Wilson interval."""

    metric: str
    variant: str
    step: int  # 1 for the first step
    event: str
    units: int = 0
    reached: int = 0
    rate: Num = None
    rate_ci_low: Num = None
    rate_ci_high: Num = None
    conversion: Num = None
    conversion_ci_low: Num = None
    conversion_ci_high: Num = None


class Analysis(_Frozen):
    """One experiment's analysis, whole: what reports render and JSON serializes."""

    schema_version: str = SCHEMA_VERSION
    experiment: str
    method: Method = "frequentist"
    alpha: float = 0.05
    control: str
    variants: tuple[str, ...]
    primary: str
    metrics: tuple[str, ...] = ()
    guardrail_metrics: tuple[str, ...] = ()
    units: dict[str, int] = Field(default_factory=dict)
    weights: dict[str, float] = Field(default_factory=dict)
    effects: tuple[Effect, ...] = ()
    segments: tuple[SegmentEffect, ...] = ()
    heterogeneity: tuple[Heterogeneity, ...] = ()
    daily: tuple[DailyEffect, ...] = ()
    trust: tuple[TrustCheck, ...] = ()
    guardrails: tuple[GuardrailResult, ...] = ()
    power: tuple[PowerInfo, ...] = ()
    funnel_steps: tuple[FunnelStep, ...] = ()
    # Adaptive-aware estimates of a bandit experiment (``result.bandit``).
    bandit: BanditResult | None = None
    design: DesignInfo | None = None
    verdict: Verdict
    true_effects: dict[str, float] | None = None
    true_effects_absolute: tuple[str, ...] = Field(
        default=(),
        description="keys of true_effects that are absolute effects; the rest are relative",
    )
    notes: tuple[str, ...] = ()
    # Interleaving experiments: the preference between the two rankers.
    interleaving: InterleavingResult | None = None
    shadow: ShadowResult | None = None  # a shadow run's analysis (type: shadow)

    def effect(self, metric: str, variant: str) -> Effect | None:
        """The effect row of one metric and variant, if analysed."""
        for e in self.effects:
            if e.metric == metric and e.variant == variant:
                return e
        return None
