"""Allocation policies against closed forms, Monte Carlo references and their own laws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from shipit.bandits import policies as pol
from shipit.errors import InputError


def _miller(a0: int, b0: int, a1: int, b1: int) -> float:
    """P(X1 > X0) for Beta(a0, b0), Beta(a1, b1) with integer a1 (Evan Miller's closed form)."""
    i = np.arange(a1)
    terms = (
        special.betaln(a0 + i, b0 + b1)
        - np.log(b1 + i)
        - special.betaln(1 + i, b1)
        - special.betaln(a0, b0)
    )
    return float(np.exp(terms).sum())


@pytest.mark.parametrize(
    ("a0", "b0", "a1", "b1"),
    [(1, 1, 1, 1), (11, 91, 16, 86), (3, 1, 2, 5), (120, 880, 130, 870), (500, 4500, 9, 41)],
)
def test_two_variant_beta_prob_best_matches_closed_form(a0: int, b0: int, a1: int, b1: int) -> None:
    got = pol.beta_prob_best([a0, a1], [b0, b1])
    assert got[1] == pytest.approx(_miller(a0, b0, a1, b1), abs=1e-6)
    assert got.sum() == pytest.approx(1.0)


def test_beta_prob_best_is_vectorized_over_runs() -> None:
    a = np.array([[11.0, 16.0], [120.0, 130.0]])
    b = np.array([[91.0, 86.0], [880.0, 870.0]])
    rows = pol.beta_prob_best(a, b)
    for i in range(2):
        assert rows[i] == pytest.approx(pol.beta_prob_best(a[i], b[i]))


def test_many_variant_beta_prob_best_matches_quadrature() -> None:
    a, b = np.array([12.0, 15.0, 9.0]), np.array([88.0, 85.0, 70.0])

    def prob(i: int) -> float:
        others = [j for j in range(3) if j != i]

        def f(x: float) -> float:
            return float(stats.beta.pdf(x, a[i], b[i])) * np.prod(
                [stats.beta.cdf(x, a[j], b[j]) for j in others]
            )

        return float(integrate.quad(f, 0, 1, limit=200)[0])

    ref = np.array([prob(i) for i in range(3)])
    got = pol.beta_prob_best(a, b, draws=200_000, seed=1)
    assert got == pytest.approx(ref, abs=4e-3)  # MC standard error ≈ 1e-3
    assert np.array_equal(got, pol.beta_prob_best(a, b, draws=200_000, seed=1))  # seeded


def test_normal_prob_best_two_exact_and_many_by_monte_carlo() -> None:
    p = pol.normal_prob_best([0.0, 1.0], [1.0, 2.0])
    assert p[1] == pytest.approx(stats.norm.cdf(1 / np.sqrt(5)))
    m, s = np.array([0.0, 0.3, 0.1]), np.array([0.5, 0.5, 0.2])
    x = np.random.default_rng(9).normal(m, s, size=(400_000, 3))
    ref = np.bincount(x.argmax(1), minlength=3) / len(x)
    assert pol.normal_prob_best(m, s, draws=100_000, seed=2) == pytest.approx(ref, abs=6e-3)


def test_thompson_gaussian_uses_the_conjugate_posterior() -> None:
    n, mean, var = np.array([50.0, 80.0]), np.array([1.0, 1.2]), np.array([4.0, 9.0])
    prec = 1 / 10.0 + n / var
    post = (0.0 / 10.0 + n * mean / var) / prec
    expect = stats.norm.cdf((post[1] - post[0]) / np.sqrt(1 / prec[0] + 1 / prec[1]))
    got = pol.thompson_gaussian(n, mean, var, prior_variance=10.0)
    assert got[1] == pytest.approx(expect)


def test_top_two_matches_a_simulation_of_the_procedure() -> None:
    """Serve the leader with prob β, else re-draw until another variant leads."""
    a, b = np.array([12.0, 15.0, 9.0]), np.array([88.0, 85.0, 70.0])
    rng = np.random.default_rng(4)
    draws = 200_000
    first = rng.beta(a, b, size=(draws, 3)).argmax(1)
    second = first.copy()
    todo = np.ones(draws, dtype=bool)
    while todo.any():
        second[todo] = rng.beta(a, b, size=(todo.sum(), 3)).argmax(1)
        todo = second == first
    served = np.where(rng.random(draws) < 0.5, first, second)
    ref = np.bincount(served, minlength=3) / draws
    prob = pol.beta_prob_best(a, b, draws=400_000, seed=5)
    assert pol.top_two(prob, beta=0.5) == pytest.approx(ref, abs=5e-3)


def test_ucb1_tries_unserved_first_then_the_largest_bound() -> None:
    assert pol.ucb1([0, 5, 0], [0.0, 0.5, 0.0]) == pytest.approx([0.5, 0.0, 0.5])
    n, m = np.array([100.0, 10.0]), np.array([0.5, 0.4])
    bound = m + np.sqrt(2 * np.log(110) / n)
    assert pol.ucb1(n, m) == pytest.approx((bound == bound.max()).astype(float))


def test_epsilon_greedy_spreads_epsilon() -> None:
    assert pol.epsilon_greedy([0.1, 0.3, 0.2], epsilon=0.3) == pytest.approx([0.1, 0.8, 0.1])
    assert pol.epsilon_greedy([np.inf, 0.3], epsilon=0.0) == pytest.approx([1.0, 0.0])


@given(
    w=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=8).filter(lambda x: sum(x) > 1e-3),
    frac=st.floats(0.0, 1.0),
)
@settings(max_examples=60, deadline=None)
def test_floor_keeps_a_distribution_above_the_minimum(w: list[float], frac: float) -> None:
    floor = frac / len(w)
    out = pol.apply_floor(w, floor)
    assert out.sum() == pytest.approx(1.0)
    assert np.all(out >= floor - 1e-12)


@given(
    counts=st.lists(
        st.tuples(st.integers(0, 300), st.integers(0, 300)), min_size=2, max_size=5
    ).map(lambda rows: [(min(a, b), max(a, b)) for a, b in rows]),
)
@settings(max_examples=40, deadline=None)
def test_every_policy_returns_a_distribution(counts: list[tuple[int, int]]) -> None:
    s = np.array([c[0] for c in counts], dtype=float)
    n = np.array([c[1] for c in counts], dtype=float)
    mean = np.where(n > 0, s / np.maximum(n, 1), 0.0)
    ts = pol.thompson_beta(s, n, draws=500, seed=0)
    for w in (ts, pol.top_two(ts), pol.ucb1(n, mean), pol.epsilon_greedy(mean)):
        assert w.sum() == pytest.approx(1.0)
        assert np.all(w >= 0)


def test_bad_inputs_are_named() -> None:
    with pytest.raises(InputError, match="successes"):
        pol.thompson_beta([5, 2], [3, 4])
    with pytest.raises(InputError, match="Beta parameters"):
        pol.beta_prob_best([0, 1], [1, 1])
    with pytest.raises(InputError, match="min_share"):
        pol.apply_floor([0.5, 0.5], 0.6)
    with pytest.raises(InputError, match="beta"):
        pol.top_two([0.5, 0.5], beta=1.0)
    with pytest.raises(InputError, match="non-finite"):
        pol.ucb1([1, np.nan], [0.1, 0.2])
