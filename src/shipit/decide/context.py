"""What every decision rule reads: the parts of the analysis and the winners by the plan's method.

The winners are the variants whose primary effect is shown better than control under the
plan's method, with the plan's error control across treatments:

- frequentist: the primary's p-value adjusted over the family (primary and secondary
  metrics × variants, with the plan's correction) below α, the effect in the good
  direction and at least the MDE (Spotify's rule);
- Bayesian: P(better) ≥ 1 − (1 − threshold)/k for k treatments and the expected loss
  within the tolerance;
- sequential: the boundary crossed in the good direction (the boundaries are computed at
  α/k per treatment) and the effect at least the MDE.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from shipit.decide.policy import DecisionPolicy
from shipit.decide.ranking import oriented, pareto_set, utility
from shipit.errors import InputError
from shipit.result.model import (
    Effect,
    GuardrailResult,
    Heterogeneity,
    PowerInfo,
    SegmentEffect,
    TrustCheck,
    Verdict,
)
from shipit.spec.decision import Decision

__all__ = ["DecisionContext"]


@dataclass(frozen=True)
class DecisionContext:
    """The inputs of the verdict and what follows from them, computed once on first use."""

    effects: Sequence[Effect]
    policy: DecisionPolicy
    guardrails: Sequence[GuardrailResult] = ()
    trust: Sequence[TrustCheck] = ()
    power: Sequence[PowerInfo] = ()
    segments: Sequence[SegmentEffect] = ()
    heterogeneity: Sequence[Heterogeneity] = field(default=())

    @cached_property
    def primary(self) -> dict[str, Effect]:
        """The primary metric's effect per variant."""
        rows = {e.variant: e for e in self.effects if e.metric == self.policy.primary}
        if not rows:
            raise InputError(f"no effect for the primary metric {self.policy.primary!r}")
        return rows

    @property
    def variants(self) -> list[str]:
        return list(self.primary)

    def p_adjusted(self, variant: str) -> float:
        """The primary's adjusted p-value (its p-value when the analysis adjusted nothing)."""
        b = self.primary[variant].best
        p = b.p_value_adjusted if b.p_value_adjusted is not None else b.p_value
        return math.nan if p is None else p

    @cached_property
    def red(self) -> frozenset[str]:
        return frozenset(g.variant for g in self.guardrails if g.light == "red")

    def guardrails_of(self, variant: str) -> list[GuardrailResult]:
        return [g for g in self.guardrails if g.variant == variant]

    @cached_property
    def utility(self) -> dict[str, float | None]:
        w = self.policy.weights
        return utility(self.effects, w, self.variants) if w else {}

    @cached_property
    def pareto(self) -> tuple[str, ...]:
        return pareto_set(self.effects, self.variants) if len(self.variants) > 1 else ()

    @cached_property
    def ordered(self) -> list[str]:
        """Variants without a red guardrail, best first (by utility when weights are set)."""

        def rank(v: str) -> float:
            score = self.utility.get(v) if self.utility else oriented(self.primary[v])
            return -math.inf if score is None or math.isnan(score) else score

        return sorted((v for v in self.variants if v not in self.red), key=rank, reverse=True)

    @property
    def ship_probability(self) -> float:
        """The P(better) the Bayesian rule asks of each of the treatments."""
        return self.policy.ship_probability(len(self.variants))

    @cached_property
    def status(self) -> dict[str, tuple[bool, bool]]:
        """(wins, significantly worse) per variant under the plan's method."""
        return {v: self._judge(v) for v in self.variants}

    @property
    def winners(self) -> list[str]:
        return [v for v in self.ordered if self.status[v][0]]

    @property
    def worse(self) -> list[str]:
        return [v for v in self.variants if self.status[v][1]]

    @property
    def red_notes(self) -> tuple[str, ...]:
        return tuple(
            f"not shipped, guardrail breached: {g.message}"
            for g in self.guardrails
            if g.light == "red"
        )

    def _judge(self, variant: str) -> tuple[bool, bool]:
        e, policy = self.primary[variant], self.policy
        good = oriented(e, policy.mde_relative)
        if policy.method == "bayesian":
            pb, loss = e.prob_better, e.expected_loss
            if pb is None:
                return False, False
            t = self.ship_probability
            wins = pb >= t and (loss is None or loss <= policy.loss_threshold)
            return wins, pb <= 1 - t
        if policy.method == "sequential":
            crossed = e.sequential.crossed if e.sequential is not None else "none"
            up = "upper" if e.higher_is_better else "lower"
            down = "lower" if e.higher_is_better else "upper"
            return crossed == up and good >= policy.mde, crossed == down
        sig = self.p_adjusted(variant) < policy.alpha
        return bool(sig and good > 0 and good >= policy.mde), bool(sig and good < 0)

    def verdict(self, decision: Decision, **fields: Any) -> Verdict:
        """A verdict with the utility and Pareto set of this analysis."""
        return Verdict(decision=decision, utility=self.utility, pareto=self.pareto, **fields)
