"""Power of team-draft interleaving against an A/B test of the same two rankers.

The click model: each session's user wants one document (drawn from ``target``) and clicks
it if it is among the results shown, else nothing. A ranker's click-through rate (CTR) is
then the probability mass of its top ``length`` documents. The A/B test splits sessions
between the rankers and compares CTRs with a two-proportion z-test; interleaving shows every
session one team-draft list and applies the sign test to the per-session preference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shipit._types import FloatArray, IntArray
from shipit.bandits.interleaving import TEAM_B, credit, sign_test_p_values, team_draft_batch
from shipit.errors import InputError
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments

__all__ = ["InterleavingPower", "RankerPair", "simulate_interleaving", "textbook_pair"]


@dataclass(frozen=True)
class RankerPair:
    """Two fixed rankings over document ids and the users' target-document distribution."""

    ranking_a: IntArray
    ranking_b: IntArray
    target: FloatArray
    length: int

    def ctr(self, ranking: IntArray) -> float:
        """Click-through rate of a ranking shown alone: mass of its top ``length`` documents."""
        return float(self.target[ranking[: self.length]].sum())


def textbook_pair(ctr_a: float = 0.20, ctr_b: float = 0.25, length: int = 5) -> RankerPair:
    """Two rankers sharing ``length − 1`` documents, each with one document of its own.

    The shared documents carry 80% of the smaller CTR; each ranker's own document carries the
    rest of its CTR. B ranks its own document first, A third, so both reach interleaved lists.
    """
    if not (0 < ctr_a < 1 and 0 < ctr_b < 1) or length < 3:
        raise InputError("CTRs must lie in (0, 1) and length must be at least 3")
    shared = 0.8 * min(ctr_a, ctr_b)
    if ctr_a + ctr_b - shared > 1:
        raise InputError(f"CTRs {ctr_a} and {ctr_b} cannot both hold in this click model")
    m = length - 1  # shared documents 0..m-1, A's own m, B's own m+1, the rest m+2
    target = np.zeros(m + 3)
    target[:m] = shared / m
    target[m], target[m + 1] = ctr_a - shared, ctr_b - shared
    target[m + 2] = 1.0 - target[: m + 2].sum()
    shared_ids = list(range(m))
    ranking_a = np.array([*shared_ids[:2], m, *shared_ids[2:]])
    ranking_b = np.array([m + 1, *shared_ids])
    return RankerPair(ranking_a, ranking_b, target, length)


@dataclass(frozen=True)
class InterleavingPower:
    """Rejection rates at ``alpha`` over seeded runs, interleaving against A/B."""

    sessions: int
    runs: int
    alpha: float
    ctr_a: float
    ctr_b: float
    power_interleaving: float
    power_ab: float
    first_pick_a: float
    mean_share_b: float

    def to_dict(self) -> dict[str, float | int]:
        """Plain JSON-ready values."""
        return dict(self.__dict__)


def simulate_interleaving(
    pair: RankerPair,
    *,
    sessions: int = 1_000,
    runs: int = 1_000,
    alpha: float = 0.05,
    seed: int = 0,
) -> InterleavingPower:
    """Share of ``runs`` seeded experiments of ``sessions`` sessions that detect a difference."""
    if sessions < 2 or runs < 1 or not 0 < alpha < 1:
        raise InputError("sessions must be ≥ 2, runs ≥ 1 and alpha in (0, 1)")
    rng = np.random.default_rng(seed)
    total = sessions * runs
    docs, teams = team_draft_batch(
        np.broadcast_to(pair.ranking_a, (total, pair.ranking_a.size)),
        np.broadcast_to(pair.ranking_b, (total, pair.ranking_b.size)),
        pair.length,
        seed=rng,
    )
    wanted = rng.choice(pair.target.size, size=total, p=pair.target)
    clicks = docs == wanted[:, None]
    ca, cb = credit(teams, clicks)
    wins_a = (ca > cb).reshape(runs, sessions).sum(axis=1)
    wins_b = (cb > ca).reshape(runs, sessions).sum(axis=1)
    p_il = sign_test_p_values(wins_b, wins_a + wins_b)
    # A/B: each session goes to A or B by a fair coin and converts at that ranker's CTR.
    ctr_a, ctr_b = pair.ctr(pair.ranking_a), pair.ctr(pair.ranking_b)
    n_a = rng.binomial(sessions, 0.5, size=runs).astype(np.float64)
    n_b = sessions - n_a
    y_a = rng.binomial(n_a.astype(np.int64), ctr_a).astype(np.float64)
    y_b = rng.binomial(n_b.astype(np.int64), ctr_b).astype(np.float64)
    labels = [str(i) for i in range(runs)]
    # Binary outcomes: Σy² = Σy.
    ab = compare(
        Moments.from_sums(labels, ["y"], n_a, y_a, y_a),
        Moments.from_sums(labels, ["y"], n_b, y_b, y_b),
        "proportion",
        alpha=alpha,
    )
    decisive = wins_a + wins_b
    with np.errstate(invalid="ignore", divide="ignore"):
        share_b = float(np.nanmean(np.where(decisive > 0, wins_b / decisive, np.nan)))
    return InterleavingPower(
        sessions=sessions,
        runs=runs,
        alpha=alpha,
        ctr_a=ctr_a,
        ctr_b=ctr_b,
        power_interleaving=float(np.mean(p_il < alpha)),
        power_ab=float(np.mean(np.nan_to_num(ab.p_value, nan=1.0) < alpha)),
        first_pick_a=float(np.mean(teams[:, 0] != TEAM_B)),
        mean_share_b=share_b,
    )
