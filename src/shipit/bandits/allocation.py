"""The next allocation period's weights of a served bandit, from its reward totals.

A pure step: per-variant (n, Σy, Σy²) pooled over every period so far go through the
spec's policy (``BanditState``'s burn-in, policy and floor), seeded by the spec's seed and
the period number, so a recorded period's weights can be recomputed exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from shipit.bandits.state import AllocationPeriod, BanditConfig, BanditState, VariantTotals
from shipit.errors import InputError
from shipit.spec.bandit import BanditSpec

__all__ = ["NextAllocation", "next_weights"]


@dataclass(frozen=True)
class NextAllocation:
    """The weights of the next period and what they were computed from."""

    weights: dict[str, float]
    n: dict[str, float]
    mean: dict[str, float | None]

    def summary(self) -> dict[str, object]:
        """A JSON-ready record of the update (stored with the period)."""
        return {"n": self.n, "mean": self.mean}


def next_weights(
    spec: BanditSpec,
    variants: Sequence[str],
    n: npt.ArrayLike,
    total: npt.ArrayLike,
    total_sq: npt.ArrayLike,
    *,
    binary: bool,
    period: int,
    at: datetime,
) -> NextAllocation:
    """Weights of period ``period`` starting ``at`` from pooled reward totals per variant.

    ``binary`` says the reward is 0/1 (Beta–Bernoulli Thompson), else continuous
    (normal Thompson); ``period`` seeds the policy's draws.
    """
    n_, s_, ss_ = (np.asarray(x, dtype=np.float64) for x in (n, total, total_sq))
    if not n_.shape == s_.shape == ss_.shape == (len(variants),):
        raise InputError(f"reward totals need one entry per variant ({len(variants)})")
    if binary and (np.any(s_ < -1e-9) or np.any(s_ > n_ + 1e-9)):
        raise InputError("a 0/1 reward needs 0 <= Σreward <= n for every variant")
    config = BanditConfig(
        policy=spec.policy,
        reward_kind="binary" if binary else "continuous",
        min_share=min(spec.min_share, 0.5),
        burn_in=spec.burn_in,
        epsilon=spec.epsilon,
        seed=spec.seed,
    )
    s_ = np.clip(s_, 0.0, n_) if binary else s_  # rounding noise of the engine's sums
    data = {
        v: VariantTotals(n=float(a), total=float(b), total_sq=float(c))
        for v, a, b, c in zip(variants, n_, s_, ss_, strict=True)
    }
    # The period count seeds the draws (BanditState seeds by its number of periods).
    placeholder = AllocationPeriod(start=at, weights=dict.fromkeys(variants, 0.0), reason="log")
    state = BanditState(
        config=config, variants=list(variants), data=data, periods=[placeholder] * period
    )
    weights = state.allocate(at, reason="update").weights
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_ > 0, s_ / n_, np.nan)
    return NextAllocation(
        weights={v: float(weights[v]) for v in variants},
        n={v: float(x) for v, x in zip(variants, n_, strict=True)},
        mean={v: (None if np.isnan(m) else float(m)) for v, m in zip(variants, mean, strict=True)},
    )
