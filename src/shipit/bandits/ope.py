"""Off-policy evaluation: the value of a new policy from logs of an old one.

Logs hold, per unit, the context, the action (variant index) served, the reward and the
propensity with which the logging policy served it. The target policy is given as its
action probabilities for each logged context, shape (n, K). IPS reweights rewards by
π(a|x)/p; SNIPS normalises those weights to sum to n; doubly robust adds a reward model
q̂(x, a) as a control variate and stays unbiased when the propensities are right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray, IntArray
from shipit.errors import InputError
from shipit.stats.normal import z_critical

__all__ = ["OpeEstimate", "doubly_robust", "fit_reward_model", "ips", "snips"]


@dataclass(frozen=True)
class OpeEstimate:
    """Estimated value of the target policy with a normal interval."""

    method: Literal["ips", "snips", "dr"]
    value: float
    se: float
    lower: float
    upper: float
    n: int


@dataclass(frozen=True)
class _Logs:
    action: IntArray
    reward: FloatArray
    propensity: FloatArray
    target: FloatArray

    @property
    def ratio(self) -> FloatArray:
        """π(aᵢ|xᵢ) / pᵢ for each logged unit."""
        picked = np.take_along_axis(self.target, self.action[:, None], axis=1)[:, 0]
        return np.asarray(picked / self.propensity, dtype=np.float64)


def _logs(
    action: npt.ArrayLike, reward: npt.ArrayLike, propensity: npt.ArrayLike, target: npt.ArrayLike
) -> _Logs:
    a = np.asarray(action)
    r = np.asarray(reward, dtype=np.float64)
    p = np.asarray(propensity, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    n = a.shape[0] if a.ndim == 1 else -1
    if n < 2 or r.shape != (n,) or p.shape != (n,):
        raise InputError(
            f"action, reward and propensity must be 1-d of one length ≥ 2; got {a.shape}, "
            f"{r.shape}, {p.shape}"
        )
    if t.ndim != 2 or t.shape[0] != n:
        raise InputError(f"target probabilities must have shape (n={n}, K), got {t.shape}")
    if not np.issubdtype(a.dtype, np.integer) or np.any(a < 0) or np.any(a >= t.shape[1]):
        bad = (
            int(np.argmax((a < 0) | (a >= t.shape[1]))) if np.issubdtype(a.dtype, np.integer) else 0
        )
        raise InputError(f"action must be an integer in [0, {t.shape[1]}); row {bad} is not")
    off = ~((p > 0) & (p <= 1))
    if np.any(off):
        raise InputError(f"propensity must lie in (0, 1]; row {int(np.argmax(off))}")
    if np.any(t < 0) or not np.allclose(t.sum(axis=1), 1.0, atol=1e-8):
        raise InputError("target probabilities must be non-negative and sum to 1 per row")
    if not np.all(np.isfinite(r)):
        raise InputError(f"reward is not finite in row {int(np.argmax(~np.isfinite(r)))}")
    return _Logs(a.astype(np.int64), r, p, t)


def _normal(
    method: Literal["ips", "snips", "dr"], value: float, se: float, n: int, alpha: float
) -> OpeEstimate:
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be between 0 and 1, got {alpha}")
    z = z_critical(alpha)
    return OpeEstimate(method, value, se, value - z * se, value + z * se, n)


def _average(method: Literal["ips", "dr"], terms: FloatArray, alpha: float) -> OpeEstimate:
    """The mean of per-unit terms with the standard error of a mean."""
    n = terms.size
    return _normal(method, float(terms.mean()), float(terms.std(ddof=1) / np.sqrt(n)), n, alpha)


def ips(
    action: npt.ArrayLike,
    reward: npt.ArrayLike,
    propensity: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    alpha: float = 0.05,
) -> OpeEstimate:
    """Inverse propensity scoring: mean of π(a|x)/p · r, unbiased with correct propensities."""
    lg = _logs(action, reward, propensity, target)
    return _average("ips", lg.ratio * lg.reward, alpha)


def snips(
    action: npt.ArrayLike,
    reward: npt.ArrayLike,
    propensity: npt.ArrayLike,
    target: npt.ArrayLike,
    *,
    alpha: float = 0.05,
) -> OpeEstimate:
    """Self-normalised IPS: Σwr / Σw, with a delta-method standard error."""
    lg = _logs(action, reward, propensity, target)
    w = lg.ratio
    n = w.size
    if w.sum() <= 0:
        raise InputError("the target policy puts no probability on any logged action")
    value = float(np.sum(w * lg.reward) / np.sum(w))
    resid = w * (lg.reward - value)
    se = float(np.sqrt(np.sum(resid**2) / n / (n - 1)) / np.mean(w))
    return _normal("snips", value, se, n, alpha)


def doubly_robust(
    action: npt.ArrayLike,
    reward: npt.ArrayLike,
    propensity: npt.ArrayLike,
    target: npt.ArrayLike,
    predicted: npt.ArrayLike,
    *,
    alpha: float = 0.05,
) -> OpeEstimate:
    """Doubly robust: Σₐπ(a|x)q̂(x,a) + π(a|x)/p·(r − q̂(x,a)), averaged over units.

    ``predicted`` is q̂ for every logged context and action, shape (n, K); fit it on other
    data (``fit_reward_model`` cross-fits) so that it is independent of the rewards it corrects.
    """
    lg = _logs(action, reward, propensity, target)
    q = np.asarray(predicted, dtype=np.float64)
    if q.shape != lg.target.shape:
        raise InputError(f"predicted rewards must have shape {lg.target.shape}, got {q.shape}")
    q_taken = np.take_along_axis(q, lg.action[:, None], axis=1)[:, 0]
    return _average("dr", np.sum(lg.target * q, axis=1) + lg.ratio * (lg.reward - q_taken), alpha)


def fit_reward_model(
    contexts: npt.ArrayLike,
    action: npt.ArrayLike,
    reward: npt.ArrayLike,
    n_actions: int,
    *,
    folds: int = 2,
    ridge: float = 1.0,
    seed: int = 0,
) -> FloatArray:
    """Cross-fitted ridge regression of reward on [1, x] per action: q̂ (n, K).

    Each unit's predictions come from a model fit on the other folds, so DR stays unbiased.
    """
    x = np.asarray(contexts, dtype=np.float64)
    a = np.asarray(action, dtype=np.int64)
    r = np.asarray(reward, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[0] != a.size or r.shape != a.shape:
        raise InputError(f"contexts ({x.shape[0]} rows), action and reward must have one length")
    if folds < 2:
        raise InputError(f"folds must be at least 2, got {folds}")
    design = np.column_stack([np.ones(len(x)), x])
    d = design.shape[1]
    fold = np.random.default_rng(seed).permutation(len(x)) % folds
    q = np.empty((len(x), n_actions))
    for f in range(folds):
        train, test = fold != f, fold == f
        onehot = (a[train][:, None] == np.arange(n_actions)).astype(np.float64)  # (m, K)
        xt = design[train]
        gram = np.einsum("mk,mi,mj->kij", onehot, xt, xt) + ridge * np.eye(d)
        xy = np.einsum("mk,mi,m->ki", onehot, xt, r[train])
        theta = np.linalg.solve(gram, xy[..., None])[..., 0]  # (K, d)
        q[test] = design[test] @ theta.T
    return q
