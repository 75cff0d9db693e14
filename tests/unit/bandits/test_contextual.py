"""Contextual policies: ridge posteriors from moments, LinUCB and linear Thompson."""

from __future__ import annotations

import numpy as np
import pytest

from shipit.bandits.contextual import LinearStats, linear_thompson, linucb
from shipit.errors import InputError
from shipit.stats.moments import Moments


def _stats(rng: np.random.Generator) -> tuple[LinearStats, np.ndarray, np.ndarray, np.ndarray]:
    n = 400
    x = rng.normal(size=(n, 2))
    arm = rng.integers(0, 2, n)
    theta = np.array([[0.1, 0.5, -0.2], [0.2, -0.3, 0.4]])
    design = np.column_stack([np.ones(n), x])
    y = np.einsum("ni,ni->n", design, theta[arm]) + rng.normal(0, 0.3, n)
    m = Moments.from_arrays(
        arm.astype(str), {"reward": y, "x1": x[:, 0], "x2": x[:, 1]}, labels=["0", "1"]
    )
    return LinearStats.from_moments(m, "reward", ["x1", "x2"]), design, y, arm


def test_posterior_from_moments_is_ridge_regression(rng: np.random.Generator) -> None:
    stats, design, y, arm = _stats(rng)
    theta, _ = stats.posterior(ridge=2.0)
    for k in range(2):
        d = design[arm == k]
        ref = np.linalg.solve(d.T @ d + 2.0 * np.eye(3), d.T @ y[arm == k])
        assert theta[k] == pytest.approx(ref)


def test_linucb_and_linear_thompson_pick_the_better_arm_per_context(
    rng: np.random.Generator,
) -> None:
    stats, *_ = _stats(rng)
    contexts = np.array([[2.0, -2.0], [-2.0, 2.0]])  # arm 0 better first, arm 1 second
    assert linucb(contexts, stats, alpha=0.1) == pytest.approx(np.eye(2))
    w = linear_thompson(contexts, stats)
    assert w.sum(axis=1) == pytest.approx([1, 1])
    assert w[0, 0] > 0.99
    assert w[1, 1] > 0.99


def test_linear_thompson_weight_is_the_sampled_argmax_frequency(rng: np.random.Generator) -> None:
    stats, *_ = _stats(rng)
    theta, a_inv = stats.posterior()
    x = np.array([1.0, 0.05, 0.1])
    draws = np.stack(
        [rng.multivariate_normal(theta[k], 0.5**2 * a_inv[k], size=200_000) @ x for k in range(2)],
        axis=1,
    )
    ref = np.mean(draws.argmax(1) == 1)
    assert linear_thompson(x[1:], stats, scale=0.5)[0, 1] == pytest.approx(ref, abs=5e-3)


def test_bad_contexts_are_rejected(rng: np.random.Generator) -> None:
    stats, *_ = _stats(rng)
    with pytest.raises(InputError, match="contexts"):
        linucb(np.ones((3, 5)), stats)
    with pytest.raises(InputError, match="ridge"):
        stats.posterior(ridge=0.0)
    assert LinearStats.empty(3, 2).posterior()[0] == pytest.approx(np.zeros((3, 3)))


@pytest.mark.parametrize("policy", ["linucb", "linear_thompson"])
def test_contextual_policies_learn_which_arm_suits_which_context(policy: str) -> None:
    """Arm 0 pays for x < 0, arm 1 for x > 0: batched learning beats a uniform split."""
    rng = np.random.default_rng(12)
    slopes = np.array([-1.0, 1.0])
    stats = LinearStats.empty(2, 1)
    regret = 0.0
    for _ in range(30):
        x = rng.normal(size=(100, 1))
        if policy == "linucb":
            w = linucb(x, stats, alpha=0.5)
        else:
            w = linear_thompson(x, stats, draws=2_000, seed=rng)
        arm = (rng.random(100) > w[:, 0]).astype(int)
        mean = x[:, 0, None] * slopes
        y = mean[np.arange(100), arm] + rng.normal(0, 0.5, 100)
        regret += float(np.sum(mean.max(axis=1) - mean[np.arange(100), arm]))
        design = np.column_stack([np.ones(100), x])
        onehot = np.eye(2)[arm]
        stats = LinearStats(
            stats.gram + np.einsum("nk,ni,nj->kij", onehot, design, design),
            stats.xy + np.einsum("nk,ni,n->ki", onehot, design, y),
        )
    # A uniform split picks the wrong arm half the time and then loses 2|x|; E|x| = √(2/π).
    uniform = 3_000 * 0.5 * 2 * np.sqrt(2 / np.pi)
    assert regret < 0.1 * uniform
