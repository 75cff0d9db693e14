"""Team-draft interleaving of two rankings, click attribution and the preference test.

Team-draft (Radlinski, Kurup and Joachims, 2008): the two rankers take turns like captains
picking teams; whenever both teams are the same size a fair coin decides who picks first,
and each picks its highest-ranked document not yet shown. A click credits the team that
contributed the document; a session prefers the ranker whose team got more clicks. Under
equally good rankers each decisive session prefers either with probability ½, so a
sign (binomial) test on decisive sessions tests the preference.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shipit._types import IntArray
from shipit.bandits.policies import Seed, _rng
from shipit.errors import InputError
from shipit.stats.normal import binomial_test, sign_test_p_values

__all__ = [
    "Interleaving",
    "PreferenceResult",
    "credit",
    "preference_test",
    "sign_test_p_values",
    "team_draft",
    "team_draft_batch",
]

TEAM_A, TEAM_B, NO_TEAM = 0, 1, -1


@dataclass(frozen=True)
class Interleaving:
    """One interleaved list: the documents in order and the team (``"a"``/``"b"``) of each."""

    documents: list[Hashable]
    teams: list[str]

    def credit(self, clicked: Sequence[Hashable]) -> tuple[int, int]:
        """Clicks credited to ranker A and to ranker B."""
        team = dict(zip(self.documents, self.teams, strict=True))
        picks = [team[d] for d in clicked if d in team]
        return picks.count("a"), picks.count("b")


def team_draft_batch(
    rankings_a: npt.ArrayLike, rankings_b: npt.ArrayLike, length: int, *, seed: Seed = 0
) -> tuple[IntArray, IntArray]:
    """Team-draft for many sessions at once.

    ``rankings_a`` and ``rankings_b`` are (S, L) arrays of non-negative document ids (or one
    (L,) ranking used for every session). Returns the interleaved documents (S, length) and
    the team of each slot (0 = A, 1 = B; -1 where both rankings ran out).
    """
    ra, rb = np.asarray(rankings_a), np.asarray(rankings_b)
    if ra.ndim == 1:
        ra = ra[None, :]
    if rb.ndim == 1:
        rb = rb[None, :]
    if ra.ndim != 2 or rb.ndim != 2 or not np.issubdtype(ra.dtype, np.integer):
        raise InputError("rankings must be integer arrays of shape (sessions, positions)")
    if not np.issubdtype(rb.dtype, np.integer) or min(ra.min(), rb.min()) < 0:
        raise InputError("document ids must be non-negative integers")
    if length < 1:
        raise InputError(f"length must be at least 1, got {length}")
    sessions = max(ra.shape[0], rb.shape[0])
    ra = np.broadcast_to(ra, (sessions, ra.shape[1]))
    rb = np.broadcast_to(rb, (sessions, rb.shape[1]))
    rng = _rng(seed)
    docs = np.full((sessions, length), NO_TEAM, dtype=np.int64)
    teams = np.full((sessions, length), NO_TEAM, dtype=np.int64)
    used = np.zeros((sessions, int(max(ra.max(), rb.max())) + 1), dtype=bool)
    size = np.zeros((sessions, 2), dtype=np.int64)
    rows = np.arange(sessions)
    for slot in range(length):
        free_a, free_b = ~used[rows[:, None], ra], ~used[rows[:, None], rb]
        has_a, has_b = free_a.any(axis=1), free_b.any(axis=1)
        next_a = ra[rows, np.argmax(free_a, axis=1)]
        next_b = rb[rows, np.argmax(free_b, axis=1)]
        coin = rng.random(sessions) < 0.5
        a_turn = (size[:, 0] < size[:, 1]) | ((size[:, 0] == size[:, 1]) & coin)
        a_turn = np.where(has_a & has_b, a_turn, has_a)
        live = has_a | has_b
        pick = np.where(a_turn, next_a, next_b)
        team = np.where(a_turn, TEAM_A, TEAM_B)
        docs[:, slot] = np.where(live, pick, NO_TEAM)
        teams[:, slot] = np.where(live, team, NO_TEAM)
        used[rows[live], pick[live]] = True
        size[rows[live], team[live]] += 1
    return docs, teams


def team_draft(
    ranking_a: Sequence[Hashable],
    ranking_b: Sequence[Hashable],
    length: int | None = None,
    *,
    seed: Seed = None,
) -> Interleaving:
    """Interleave two rankings of any hashable document ids for one session."""
    ids = list(dict.fromkeys([*ranking_a, *ranking_b]))
    if len(set(ranking_a)) != len(ranking_a) or len(set(ranking_b)) != len(ranking_b):
        raise InputError("a ranking lists the same document twice")
    if not ranking_a and not ranking_b:
        raise InputError("both rankings are empty")
    k = min(length if length is not None else len(ids), len(ids))
    if not ranking_a or not ranking_b:  # one ranker has nothing: the other fills the list
        team = "a" if ranking_a else "b"
        return Interleaving(documents=ids[:k], teams=[team] * k)
    code = {d: i for i, d in enumerate(ids)}
    pad = max(len(ranking_a), len(ranking_b))
    # Padding repeats a ranking's last document, which is already used when reached.
    ra = [code[d] for d in ranking_a]
    rb = [code[d] for d in ranking_b]
    ra = ra + [ra[-1]] * (pad - len(ra))
    rb = rb + [rb[-1]] * (pad - len(rb))
    docs, teams = team_draft_batch(np.array(ra), np.array(rb), k, seed=seed)
    keep = teams[0] != NO_TEAM
    return Interleaving(
        documents=[ids[i] for i in docs[0][keep]],
        teams=["a" if t == TEAM_A else "b" for t in teams[0][keep]],
    )


def credit(teams: npt.ArrayLike, clicks: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """Clicks per session credited to A and to B, from slot teams and click flags (S, length)."""
    t, c = np.asarray(teams), np.asarray(clicks, dtype=bool)
    if t.shape != c.shape:
        raise InputError(f"teams {t.shape} and clicks {c.shape} must have the same shape")
    return (
        np.sum(c & (t == TEAM_A), axis=-1).astype(np.int64),
        np.sum(c & (t == TEAM_B), axis=-1).astype(np.int64),
    )


@dataclass(frozen=True)
class PreferenceResult:
    """Credit analysis of interleaved sessions.

    ``share_b`` is the share of decisive sessions preferring B, with an exact
    (Clopper–Pearson) interval; ``delta`` = (wins_b − wins_a) / sessions.
    """

    sessions: int
    wins_a: int
    wins_b: int
    ties: int
    share_b: float
    lower: float
    upper: float
    delta: float
    p_value: float


def preference_test(
    clicks_a: npt.ArrayLike, clicks_b: npt.ArrayLike, *, alpha: float = 0.05
) -> PreferenceResult:
    """Per-session preference and the sign test, from clicks credited to each ranker."""
    ca, cb = np.asarray(clicks_a), np.asarray(clicks_b)
    if ca.shape != cb.shape or ca.ndim != 1 or ca.size == 0:
        raise InputError("clicks_a and clicks_b must be 1-d per-session counts of one length")
    if np.any(ca < 0) or np.any(cb < 0):
        raise InputError("click counts must be non-negative")
    wins_a, wins_b = int(np.sum(ca > cb)), int(np.sum(cb > ca))
    decisive = wins_a + wins_b
    if decisive == 0:
        share, lo, hi, p = float("nan"), 0.0, 1.0, 1.0
    else:
        t = binomial_test(wins_b, decisive, level=1 - alpha)
        share, lo, hi, p = t.share, t.lower, t.upper, t.p_value
    return PreferenceResult(
        sessions=int(ca.size),
        wins_a=wins_a,
        wins_b=wins_b,
        ties=int(ca.size) - decisive,
        share_b=share,
        lower=lo,
        upper=hi,
        delta=(wins_b - wins_a) / ca.size,
        p_value=p,
    )
