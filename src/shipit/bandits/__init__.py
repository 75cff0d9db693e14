"""Adaptive experiments: bandit policies, their persisted state, inference after a bandit,
off-policy evaluation and interleaving.

Policies are pure functions from per-variant statistics to allocation weights; a running
bandit is a ``BanditState`` value whose logged periods are the propensities used by IPW.
"""

from __future__ import annotations

from shipit.bandits.contextual import LinearStats, linear_thompson, linucb
from shipit.bandits.inference import AdaptiveEstimate, ipw_from_periods, ipw_means
from shipit.bandits.interleaving import Interleaving, PreferenceResult, preference_test, team_draft
from shipit.bandits.ope import OpeEstimate, doubly_robust, fit_reward_model, ips, snips
from shipit.bandits.policies import (
    apply_floor,
    beta_prob_best,
    epsilon_greedy,
    normal_prob_best,
    thompson_beta,
    thompson_gaussian,
    top_two,
    ucb1,
)
from shipit.bandits.state import AllocationPeriod, BanditConfig, BanditState

__all__ = [
    "AdaptiveEstimate",
    "AllocationPeriod",
    "BanditConfig",
    "BanditState",
    "Interleaving",
    "LinearStats",
    "OpeEstimate",
    "PreferenceResult",
    "apply_floor",
    "beta_prob_best",
    "doubly_robust",
    "epsilon_greedy",
    "fit_reward_model",
    "ips",
    "ipw_from_periods",
    "ipw_means",
    "linear_thompson",
    "linucb",
    "normal_prob_best",
    "preference_test",
    "snips",
    "team_draft",
    "thompson_beta",
    "thompson_gaussian",
    "top_two",
    "ucb1",
]
