"""Seeded bandit simulations with known conversion rates, vectorized over runs.

Units arrive in batches; before each batch the policy turns the data so far into weights
(one allocation period), the batch is split by those weights and converts at the true
rates. This is how a production bandit runs (posteriors updated from moments every N
minutes), so the simulated regret is the regret users would see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

import numpy as np

from shipit._types import FloatArray
from shipit.bandits import policies
from shipit.bandits.policies import PolicyKind
from shipit.errors import InputError

__all__ = ["BanditSimulation", "simulate_bandit"]

POLICIES: tuple[str, ...] = get_args(PolicyKind)
# Monte Carlo draws for Thompson weights with more than two variants (two are exact). The
# weights are logged as drawn, so they stay the true serving probabilities of the run.
_DRAWS = 256


@dataclass(frozen=True)
class BanditSimulation:
    """Outcome of ``runs`` seeded simulations of one policy.

    ``units`` (T,) counts units served by the end of each period; ``regret`` (T,) is the
    mean cumulative regret (expected conversions lost against always serving the best
    variant) at those points; ``share`` (K,) is the mean share of units each variant got;
    ``found_best`` the share of runs whose final posterior gives the truly best variant
    P(best) > ½. ``log`` holds per-run, per-period arrays (runs, T, K) of units, conversions
    and weights, for inference checks.
    """

    policy: str
    rates: FloatArray
    units: FloatArray
    regret: FloatArray
    regret_sd: FloatArray
    share: FloatArray
    found_best: float
    log_n: FloatArray
    log_conversions: FloatArray
    log_weights: FloatArray

    def to_dict(self) -> dict[str, object]:
        """Summary as plain JSON-ready values (the per-run log is left out)."""
        return {
            "policy": self.policy,
            "rates": self.rates.tolist(),
            "units": int(self.units[-1]),
            "cumulative_regret": float(self.regret[-1]),
            "cumulative_regret_sd": float(self.regret_sd[-1]),
            "allocation": self.share.tolist(),
            "found_best": self.found_best,
        }


def _weights(
    policy: str, conv: FloatArray, n: FloatArray, rng: np.random.Generator, epsilon: float
) -> FloatArray:
    """Policy weights for every run at once, from cumulative conversions and units (R, K)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, conv / n, np.nan)
    if policy == "fixed":
        return np.full(n.shape, 1.0 / n.shape[-1])
    if policy == "ucb":
        return policies.ucb1(n, np.nan_to_num(mean))
    if policy == "egreedy":
        return policies.epsilon_greedy(np.where(n > 0, mean, np.inf), epsilon=epsilon)
    if policy == "gaussian_thompson":
        var = np.where(n > 1, mean * (1 - mean) * n / np.maximum(n - 1, 1), 0.25)
        return policies.thompson_gaussian(n, np.nan_to_num(mean), var, draws=_DRAWS, seed=rng)
    p = policies.thompson_beta(conv, n, draws=_DRAWS, seed=rng)
    return policies.top_two(p) if policy == "top_two" else p


def simulate_bandit(
    rates: Sequence[float],
    *,
    policy: str = "thompson",
    units: int = 10_000,
    runs: int = 1_000,
    batch: int = 100,
    min_share: float = 0.0,
    burn_in: int = 0,
    epsilon: float = 0.1,
    seed: int = 0,
) -> BanditSimulation:
    """Simulate ``runs`` bandits on variants converting at ``rates``, ``batch`` units a period.

    The first ``burn_in`` units per variant are split equally before the policy takes over;
    ``min_share`` floors every variant's weight.
    """
    p = np.asarray(rates, dtype=np.float64)
    if p.ndim != 1 or p.size < 2 or np.any((p < 0) | (p > 1)):
        raise InputError(f"rates must be at least two conversion rates in [0, 1], got {rates}")
    if policy not in POLICIES:
        raise InputError(f"policy must be one of {', '.join(POLICIES)}; got {policy!r}")
    if units < 1 or runs < 1 or batch < 1:
        raise InputError("units, runs and batch must be positive")
    k = p.size
    periods = -(-units // batch)
    sizes = np.full(periods, batch)
    sizes[-1] = units - batch * (periods - 1)
    rng = np.random.default_rng(seed)
    n = np.zeros((runs, k))
    conv = np.zeros((runs, k))
    log_n = np.zeros((runs, periods, k))
    log_c = np.zeros((runs, periods, k))
    log_w = np.zeros((runs, periods, k))
    served = 0
    for t, size in enumerate(sizes):
        if served < burn_in * k or policy == "fixed":
            w = np.full((runs, k), 1.0 / k)
        else:
            w = _weights(policy, conv, n, rng, epsilon)
        w = policies.apply_floor(w, min_share)
        got = rng.multinomial(int(size), w)
        won = rng.binomial(got, p)
        n += got
        conv += won
        log_n[:, t], log_c[:, t], log_w[:, t] = got, won, w
        served += int(size)
    lost = (p.max() - p) @ np.moveaxis(log_n, -1, -2)  # (runs, T) per period
    cum = np.cumsum(lost, axis=1)
    final = policies.thompson_beta(conv, n, draws=2000, seed=rng)
    found = float(np.mean(final[:, int(np.argmax(p))] > 0.5))
    return BanditSimulation(
        policy=policy,
        rates=p,
        units=np.cumsum(sizes).astype(np.float64),
        regret=cum.mean(axis=0),
        regret_sd=cum.std(axis=0, ddof=1) if runs > 1 else np.zeros(periods),
        share=(n / n.sum(axis=1, keepdims=True)).mean(axis=0),
        found_best=found,
        log_n=log_n,
        log_conversions=log_c,
        log_weights=log_w,
    )
