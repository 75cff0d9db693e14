"""Team-draft interleaving: the draft's invariants, fair first picks, the sign test's size."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from shipit.bandits.interleaving import (
    credit,
    preference_test,
    sign_test_p_values,
    team_draft,
    team_draft_batch,
)
from shipit.errors import InputError

rankings = st.lists(st.integers(0, 12), min_size=1, max_size=8, unique=True)


@given(a=rankings, b=rankings, length=st.integers(1, 14), seed=st.integers(0, 2**16))
@settings(max_examples=150, deadline=None)
def test_team_draft_invariants(a: list[int], b: list[int], length: int, seed: int) -> None:
    il = team_draft(a, b, length, seed=seed)
    union = set(a) | set(b)
    assert len(il.documents) == min(length, len(union))
    assert len(set(il.documents)) == len(il.documents)
    picks_a = [d for d, t in zip(il.documents, il.teams, strict=True) if t == "a"]
    picks_b = [d for d, t in zip(il.documents, il.teams, strict=True) if t == "b"]
    # Each team picks from its own ranking, in that ranking's order.
    assert picks_a == sorted(picks_a, key=a.index)
    assert picks_b == sorted(picks_b, key=b.index)
    # Each pick is the team's best document not yet shown.
    shown: set[int] = set()
    for d, t in zip(il.documents, il.teams, strict=True):
        ranking = a if t == "a" else b
        assert d == next(x for x in ranking if x not in shown)
        shown.add(d)
    # While both rankings have documents left, team sizes never differ by more than one.
    if set(a) <= set(il.documents) or set(b) <= set(il.documents):
        return
    assert abs(len(picks_a) - len(picks_b)) <= 1


def test_each_ranker_picks_first_half_the_time() -> None:
    _, teams = team_draft_batch(np.tile(np.arange(5), (20_000, 1)), np.arange(5)[::-1], 4, seed=8)
    first_a = int(np.sum(teams[:, 0] == 0))
    assert stats.binomtest(first_a, 20_000, 0.5).pvalue > 0.001
    # A fresh coin decides every round: the second round's first pick is fair as well.
    assert stats.binomtest(int(np.sum(teams[:, 2] == 0)), 20_000, 0.5).pvalue > 0.001
    assert np.all(np.sum(teams == 0, axis=1) == 2)


def test_credit_and_the_single_session_api() -> None:
    il = team_draft(["x", "y", "z"], ["y", "w", "x"], 4, seed=0)
    assert sorted(il.documents) == ["w", "x", "y", "z"]
    clicked = [d for d, t in zip(il.documents, il.teams, strict=True) if t == "b"][:1]
    assert il.credit(clicked) == (0, 1)
    teams = np.array([[0, 1, 0, 1], [1, 0, 1, 0]])
    clicks = np.array([[True, True, True, False], [False, False, False, True]])
    ca, cb = credit(teams, clicks)
    assert ca.tolist() == [2, 1]
    assert cb.tolist() == [1, 0]


def test_preference_test_matches_scipy_binomtest() -> None:
    ca = np.array([1, 0, 0, 2, 0, 1, 0, 0, 0, 1, 0, 0])
    cb = np.array([0, 1, 1, 0, 1, 1, 2, 0, 1, 0, 1, 1])
    res = preference_test(ca, cb)
    assert (res.wins_a, res.wins_b, res.ties) == (3, 7, 2)
    ref = stats.binomtest(7, 10, 0.5)
    ci = ref.proportion_ci(0.95, method="exact")
    assert res.p_value == pytest.approx(ref.pvalue)
    assert (res.lower, res.upper) == pytest.approx((ci.low, ci.high))
    assert res.delta == pytest.approx(4 / 12)
    k, n = np.array([0, 3, 7, 10, 25]), np.array([0, 10, 10, 30, 40])
    ref_p = [
        stats.binomtest(int(x), int(m), 0.5).pvalue if m else 1.0 for x, m in zip(k, n, strict=True)
    ]
    assert sign_test_p_values(k, n) == pytest.approx(ref_p)


def test_bad_input() -> None:
    with pytest.raises(InputError, match="twice"):
        team_draft(["a", "a"], ["b"])
    with pytest.raises(InputError, match="empty"):
        team_draft([], [])
    with pytest.raises(InputError, match="same shape"):
        credit(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(InputError, match="non-negative"):
        preference_test(np.array([-1, 0]), np.array([0, 1]))
