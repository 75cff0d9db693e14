"""A running bandit as a value: configuration, data so far, and the log of allocation periods.

``BanditState`` is a frozen pydantic model that round-trips through JSON, so a restart loses
nothing. Every method returns a new state. Each change of weights opens an
``AllocationPeriod`` stamped with its time; the assignment layer hashes deterministically
within a period using that period's weights, and the logged weights are the propensities
that ``shipit.bandits.inference`` needs afterwards.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shipit._types import FloatArray
from shipit.bandits import policies
from shipit.bandits.policies import PolicyKind
from shipit.errors import InputError, StateError
from shipit.stats.moments import Moments

__all__ = ["AllocationPeriod", "BanditConfig", "BanditState", "VariantTotals"]

RewardKind = Literal["binary", "continuous"]


class BanditConfig(BaseModel):
    """How weights are chosen: the policy and the production safeguards around it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy: PolicyKind = "thompson"
    reward: str = Field(default="reward", description="column of the moments holding the reward")
    reward_kind: RewardKind = "binary"
    min_share: float = Field(
        default=0.0, ge=0.0, le=0.5, description="floor on each variant's weight"
    )
    burn_in: int = Field(
        default=0, ge=0, description="units per variant served equally before adapting"
    )
    epsilon: float = Field(default=0.1, ge=0.0, le=1.0)
    top_two_beta: float = Field(default=0.5, gt=0.0, lt=1.0)
    prior_alpha: float = Field(default=1.0, gt=0.0)
    prior_beta: float = Field(default=1.0, gt=0.0)
    draws: int = Field(default=10_000, ge=100)
    seed: int = 0


class VariantTotals(BaseModel):
    """Sufficient statistics of one variant's reward: n, Σy, Σy² (from its moments)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: float = 0.0
    total: float = 0.0
    total_sq: float = 0.0

    def __add__(self, other: VariantTotals) -> VariantTotals:
        return VariantTotals(
            n=self.n + other.n,
            total=self.total + other.total,
            total_sq=self.total_sq + other.total_sq,
        )


class AllocationPeriod(BaseModel):
    """Weights in force from ``start`` until the next period; ``reason`` says why they changed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: datetime
    weights: dict[str, float]
    reason: str

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("time must carry a time zone (use UTC)")
        return value


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise InputError(f"time {at.isoformat()} must carry a time zone (use UTC)")
    return at


class BanditState(BaseModel):
    """Variants, their data (plus any warm-start prior data) and the allocation log."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    config: BanditConfig = BanditConfig()
    variants: list[str]
    retired: list[str] = []
    data: dict[str, VariantTotals] = {}
    prior: dict[str, VariantTotals] = {}
    periods: list[AllocationPeriod] = []

    # --- construction and persistence ------------------------------------------------------

    @classmethod
    def start(
        cls, variants: list[str], at: datetime, config: BanditConfig | None = None
    ) -> BanditState:
        """A new bandit serving its variants equally from ``at``."""
        if len(variants) < 1 or len(set(variants)) != len(variants):
            raise InputError(f"variants must be distinct and non-empty, got {variants}")
        state = cls(config=config or BanditConfig(), variants=list(variants))
        return state._open(_aware(at), state._equal(), "start")

    def to_json(self) -> str:
        """The state as a JSON document."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> BanditState:
        """Read a state written by ``to_json``; a malformed document is an InputError."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise InputError(f"invalid bandit state: {exc}") from exc

    # --- reading -----------------------------------------------------------------------------

    @property
    def active(self) -> list[str]:
        """Variants currently served, in the order they were added."""
        return [v for v in self.variants if v not in self.retired]

    @property
    def weights(self) -> dict[str, float]:
        """The weights in force now (those of the last period)."""
        return dict(self.periods[-1].weights) if self.periods else self._equal()

    def totals(self, variant: str, *, with_prior: bool = True) -> VariantTotals:
        """Data of one variant, with the warm-start prior data added by default."""
        own = self.data.get(variant, VariantTotals())
        return own + self.prior.get(variant, VariantTotals()) if with_prior else own

    # --- changes -------------------------------------------------------------------------------

    def update(self, moments: Moments, at: datetime) -> BanditState:
        """Add a batch of per-variant moments (e.g. the last N minutes) and re-allocate."""
        data = dict(self.data)
        for variant, tot in self._read(moments).items():
            data[variant] = data.get(variant, VariantTotals()) + tot
        return self.model_copy(update={"data": data}).allocate(at, reason="update")

    def warm_start(self, moments: Moments, *, weight: float = 1.0) -> BanditState:
        """Use earlier data as prior evidence, discounted by ``weight`` in (0, 1]."""
        if not 0.0 < weight <= 1.0:
            raise InputError(f"warm-start weight must lie in (0, 1], got {weight}")
        prior = dict(self.prior)
        for variant, tot in self._read(moments).items():
            scaled = VariantTotals(
                n=weight * tot.n, total=weight * tot.total, total_sq=weight * tot.total_sq
            )
            prior[variant] = prior.get(variant, VariantTotals()) + scaled
        return self.model_copy(update={"prior": prior})

    def add_variant(self, variant: str, at: datetime) -> BanditState:
        """Start serving a new variant (it gets an equal share during its own burn-in)."""
        if variant in self.variants:
            raise StateError(f"variant {variant!r} already exists in this bandit")
        state = self.model_copy(update={"variants": [*self.variants, variant]})
        return state.allocate(at, reason=f"added {variant}")

    def retire_variant(self, variant: str, at: datetime) -> BanditState:
        """Stop serving a variant; its data is kept for inference."""
        if variant not in self.active:
            raise StateError(f"variant {variant!r} is not an active variant of this bandit")
        if len(self.active) == 1:
            raise StateError(f"cannot retire {variant!r}: it is the last active variant")
        state = self.model_copy(update={"retired": [*self.retired, variant]})
        return state.allocate(at, reason=f"retired {variant}")

    def allocate(self, at: datetime, *, reason: str = "update") -> BanditState:
        """Recompute the weights; a new period is logged only if they changed."""
        at = _aware(at)
        if self.periods and at < self.periods[-1].start:
            raise InputError(
                f"time {at.isoformat()} is before the current period's start "
                f"{self.periods[-1].start.isoformat()}"
            )
        weights = self._compute()
        if self.periods and _same(weights, self.periods[-1].weights):
            return self
        return self._open(at, weights, reason)

    # --- internals -----------------------------------------------------------------------------

    def _equal(self) -> dict[str, float]:
        active = self.active
        return {v: (1.0 / len(active) if v in active else 0.0) for v in self.variants}

    def _open(self, at: datetime, weights: dict[str, float], reason: str) -> BanditState:
        period = AllocationPeriod(start=at, weights=weights, reason=reason)
        return self.model_copy(update={"periods": [*self.periods, period]})

    def _read(self, moments: Moments) -> dict[str, VariantTotals]:
        col = moments.col(self.config.reward)
        unknown = [v for v in moments.labels if v not in self.variants]
        if unknown:
            raise InputError(f"moments for unknown variant {unknown[0]!r}; known: {self.variants}")
        m = moments.matrix
        return {
            v: VariantTotals(n=m[i, 0, 0], total=m[i, 0, col], total_sq=m[i, col, col])
            for i, v in enumerate(moments.labels)
        }

    def _compute(self) -> dict[str, float]:
        """Policy weights over the active variants, after burn-in and with the floor."""
        active = self.active
        own_n = np.array([self.totals(v, with_prior=False).n for v in active])
        cfg = self.config
        if cfg.policy == "fixed" or np.any(own_n < cfg.burn_in):
            w = np.full(len(active), 1.0 / len(active))
        else:
            w = self._policy_weights(active)
        floor = min(cfg.min_share, 1.0 / len(active))
        w = policies.apply_floor(w, floor)
        out = dict.fromkeys(self.variants, 0.0)
        out.update({v: float(x) for v, x in zip(active, w, strict=True)})
        return out

    def _policy_weights(self, active: list[str]) -> FloatArray:
        cfg = self.config
        tots = [self.totals(v) for v in active]
        n = np.array([t.n for t in tots])
        s = np.array([t.total for t in tots])
        ss = np.array([t.total_sq for t in tots])
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, s / n, np.nan)
            var = np.where(n > 1, (ss - s * s / n) / (n - 1), 1.0)
        seed = np.random.default_rng([cfg.seed, len(self.periods)])
        if cfg.policy == "ucb":
            return policies.ucb1(n, np.nan_to_num(mean))
        if cfg.policy == "egreedy":
            # A variant without data has an unknown mean: try it first (as UCB does).
            return policies.epsilon_greedy(np.where(n > 0, mean, np.inf), epsilon=cfg.epsilon)
        if cfg.policy == "gaussian_thompson" or cfg.reward_kind == "continuous":
            p = policies.thompson_gaussian(n, np.nan_to_num(mean), var, draws=cfg.draws, seed=seed)
        else:
            if np.any(s < 0) or np.any(s > n):
                raise InputError("binary rewards need 0 ≤ Σreward ≤ n for every variant")
            p = policies.thompson_beta(
                s,
                n,
                prior_alpha=cfg.prior_alpha,
                prior_beta=cfg.prior_beta,
                draws=cfg.draws,
                seed=seed,
            )
        return policies.top_two(p, beta=cfg.top_two_beta) if cfg.policy == "top_two" else p


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(abs(a[k] - b[k]) < 1e-12 for k in a)
