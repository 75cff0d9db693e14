"""Off-policy estimators: unbiased with ≈95% coverage on logs with a known target value."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from shipit.bandits.ope import doubly_robust, fit_reward_model, ips, snips
from shipit.errors import InputError


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# A finite population of contexts, so the target policy's value is known exactly.
_POP = np.random.default_rng(11).normal(size=(60, 2))
_THETA = np.array([[0.0, 1.0, -0.5], [-0.3, -0.8, 0.7], [0.2, 0.3, 0.3]])
_DESIGN = np.column_stack([np.ones(60), _POP])
_MU = 1 / (1 + np.exp(-_DESIGN @ _THETA.T))  # P(reward = 1 | context, action)
_LOGGING = _softmax(0.5 * _DESIGN @ np.array([[0, 0.2, 0], [0, 0, 0.2], [0.3, 0, 0]]).T)
_TARGET = _softmax(3.0 * _DESIGN @ _THETA.T)
TRUE_VALUE = float(np.mean(np.sum(_TARGET * _MU, axis=1)))


def _indexed_logs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Logged (context, action, reward, propensity, target probabilities) and context rows."""
    idx = rng.integers(0, 60, n)
    u = rng.random(n)
    action = (u[:, None] > np.cumsum(_LOGGING[idx], axis=1)).sum(axis=1)
    reward = (rng.random(n) < _MU[idx, action]).astype(float)
    return idx, (_POP[idx], action, reward, _LOGGING[idx, action], _TARGET[idx])


def _logs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    return _indexed_logs(rng, n)[1]


def test_ips_snips_dr_are_unbiased_and_cover() -> None:
    rng = np.random.default_rng(2026)
    reps, n = 600, 800
    est: dict[str, list[tuple[float, float, float]]] = {"ips": [], "snips": [], "dr": []}
    for _ in range(reps):
        x, a, r, p, tgt = _logs(rng, n)
        q = fit_reward_model(x, a, r, 3, seed=int(rng.integers(1 << 30)))
        for e in (ips(a, r, p, tgt), snips(a, r, p, tgt), doubly_robust(a, r, p, tgt, q)):
            est[e.method].append((e.value, e.lower, e.upper))
    for method, rows in est.items():
        v = np.array(rows)
        bias_z = (v[:, 0].mean() - TRUE_VALUE) / (v[:, 0].std() / np.sqrt(reps))
        coverage = np.mean((v[:, 1] <= TRUE_VALUE) & (v[:, 2] >= TRUE_VALUE))
        assert abs(bias_z) < 4, method
        assert 0.92 <= coverage <= 0.98, (method, coverage)


def test_dr_with_the_true_reward_model_has_smaller_spread_than_ips() -> None:
    rng = np.random.default_rng(3)
    ips_v, dr_v = [], []
    for _ in range(200):
        idx, (_, a, r, p, tgt) = _indexed_logs(rng, 500)
        ips_v.append(ips(a, r, p, tgt).value)
        dr_v.append(doubly_robust(a, r, p, tgt, _MU[idx]).value)
    assert np.std(dr_v) < 0.8 * np.std(ips_v)
    assert abs(np.mean(dr_v) - TRUE_VALUE) < 4 * np.std(dr_v) / np.sqrt(200)


def test_on_policy_logs_reduce_ips_to_the_plain_mean() -> None:
    a = np.array([0, 1, 1, 0])
    r = np.array([1.0, 0.0, 1.0, 1.0])
    p = np.full(4, 0.5)
    tgt = np.full((4, 2), 0.5)
    assert ips(a, r, p, tgt).value == pytest.approx(r.mean())
    assert snips(a, r, p, tgt).value == pytest.approx(r.mean())
    # On-policy IPS and DR with q̂ = 0 are the plain mean: same sem and normal interval.
    half = sps.norm.ppf(0.95) * sps.sem(r)
    for est in (
        ips(a, r, p, tgt, alpha=0.1),
        doubly_robust(a, r, p, tgt, np.zeros((4, 2)), alpha=0.1),
    ):
        assert est.se == pytest.approx(sps.sem(r))
        assert (est.lower, est.upper) == pytest.approx((r.mean() - half, r.mean() + half))


def test_bad_logs_name_the_problem() -> None:
    tgt = np.full((3, 2), 0.5)
    with pytest.raises(InputError, match="propensity"):
        ips([0, 1, 0], [1.0, 0.0, 1.0], [0.5, 0.0, 0.5], tgt)
    with pytest.raises(InputError, match="action"):
        ips([0, 2, 0], [1.0, 0.0, 1.0], [0.5, 0.5, 0.5], tgt)
    with pytest.raises(InputError, match="sum to 1"):
        ips([0, 1, 0], [1.0, 0.0, 1.0], [0.5, 0.5, 0.5], np.full((3, 2), 0.4))
    with pytest.raises(InputError, match="propensity must lie in \\(0, 1\\]; row 1"):
        snips([0, 1, 0], [1.0, 0.0, 1.0], [0.5, np.nan, 0.5], tgt)
    with pytest.raises(InputError, match="alpha"):
        ips([0, 1, 0], [1.0, 0.0, 1.0], [0.5, 0.5, 0.5], tgt, alpha=1.5)
    with pytest.raises(InputError, match="predicted"):
        doubly_robust([0, 1, 0], [1.0, 0.0, 1.0], [0.5, 0.5, 0.5], tgt, np.zeros((3, 3)))
