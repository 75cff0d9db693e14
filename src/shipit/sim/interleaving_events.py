"""Interleaved sessions as store events, with the true preference known exactly.

The click model is ``shipit.sim.interleaving``'s: each session's user wants one document
(drawn from the pair's ``target``) and clicks it if shown. A session is decisive when the
wanted document is shown; it prefers the ranker whose team holds it. The true preference
share P(B | decisive) is exact: team draft's only randomness is one coin per slot, so
averaging over every coin sequence of the list's length gives it.
"""

from __future__ import annotations

from datetime import datetime
from itertools import product

import numpy as np
import pyarrow as pa

from shipit.bandits.interleaving import TEAM_A, team_draft_batch
from shipit.errors import InputError
from shipit.sim.interleaving import RankerPair

__all__ = ["interleaving_events", "true_preference"]

START = datetime(2026, 1, 5, 12, 0)


def _draft_with_coins(pair: RankerPair, coins: tuple[bool, ...]) -> list[tuple[int, int]]:
    """The (document, team) list team draft makes under one coin sequence."""
    used: set[int] = set()
    size = [0, 0]
    out = []
    lists = (pair.ranking_a.tolist(), pair.ranking_b.tolist())
    for slot in range(pair.length):
        free = [[d for d in lists[t] if d not in used] for t in (0, 1)]
        if not free[0] and not free[1]:
            break
        if free[0] and free[1]:
            team = 0 if size[0] < size[1] or (size[0] == size[1] and coins[slot]) else 1
        else:
            team = 0 if free[0] else 1
        doc = free[team][0]
        used.add(doc)
        size[team] += 1
        out.append((doc, team))
    return out


def true_preference(pair: RankerPair) -> tuple[float, float]:
    """P(a session is decisive) and the true share of decisive sessions preferring B."""
    if pair.length > 16:
        raise InputError("true_preference enumerates 2^length coin sequences: length ≤ 16")
    win = [0.0, 0.0]
    sequences = list(product([True, False], repeat=pair.length))
    for coins in sequences:
        for doc, team in _draft_with_coins(pair, coins):
            win[team] += float(pair.target[doc]) / len(sequences)
    decisive = win[0] + win[1]
    return decisive, win[1] / decisive


def interleaving_events(
    pair: RankerPair,
    *,
    sessions: int,
    units: int,
    seed: int,
    experiment: str = "interleaving-sim",
    rankers: tuple[str, str] = ("a", "b"),
    click_event: str = "click",
    impression_event: str = "interleaving_impression",
) -> pa.Table:
    """Impression and click events of ``sessions`` team-draft sessions spread over
    ``units`` units (session ``s`` belongs to unit ``s mod units``), as an events table."""
    if sessions < 1 or units < 1:
        raise InputError("sessions and units must be at least 1")
    rng = np.random.default_rng(seed)
    docs, teams = team_draft_batch(
        np.broadcast_to(pair.ranking_a, (sessions, pair.ranking_a.size)),
        np.broadcast_to(pair.ranking_b, (sessions, pair.ranking_b.size)),
        pair.length,
        seed=rng,
    )
    wanted = rng.choice(pair.target.size, size=sessions, p=pair.target)
    shown = teams != -1
    s_idx, pos = np.nonzero(shown)
    session = np.char.add("s", s_idx.astype(str))
    unit = np.char.add("u", (s_idx % units).astype(str))
    item = docs[s_idx, pos].astype(str)
    ranker = np.where(teams[s_idx, pos] == TEAM_A, rankers[0], rankers[1])
    clicked = docs[s_idx, pos] == wanted[s_idx]
    n_imp, n_clk = int(s_idx.size), int(clicked.sum())
    ts = pa.array([START] * (n_imp + n_clk), pa.timestamp("us"))
    imp_ids = np.char.add(np.char.add(session, "-"), (pos + 1).astype(str))
    return pa.table(
        {
            "event_id": np.concatenate(
                [np.char.add("i", imp_ids), np.char.add("c", session[clicked])]
            ),
            "unit_id": np.concatenate([unit, unit[clicked]]),
            "event": [impression_event] * n_imp + [click_event] * n_clk,
            "timestamp": ts,
            "value": pa.nulls(n_imp + n_clk, pa.float64()),
            "experiment": [experiment] * n_imp + [None] * n_clk,
            "session_id": np.concatenate([session, session[clicked]]),
            "item_id": np.concatenate([item, item[clicked]]),
            "ranker": pa.array([*ranker.tolist(), *([None] * n_clk)], pa.string()),
            "position": pa.array([*(pos + 1).tolist(), *([None] * n_clk)], pa.int64()),
        }
    )
