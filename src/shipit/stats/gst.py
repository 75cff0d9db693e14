"""Group-sequential designs: boundaries by recursive numerical integration.

The standardized statistic at look k is Z_k = S(t_k)/√t_k where S is a Brownian motion
with drift δ on information time t ∈ [0, 1] (δ = θ·√I_max; δ = 0 under the null). The
sub-density of S(t_k) on the continuation region is carried from look to look on a grid
(Armitage, McPherson & Rowe 1969; Jennison & Turnbull 2000, ch. 19) with Simpson weights
and a normal transition kernel, so that crossing probabilities are one dot product each.

- :func:`spending_bounds`: Lan-DeMets bounds that spend alpha as a spending function says,
  at any fractions (looks may drift from the plan: the function is read at the fractions
  actually reached); optional non-binding futility bounds by beta spending (one-sided).
- :func:`classical_bounds`: the constant-shape designs of Pocock (b_k = C) and
  O'Brien & Fleming (b_k = C/√t_k), with C solved by the same recursion.
- :func:`crossing_probabilities`, :func:`inflation`: type I error and power of any bounds,
  and the maximum sample size of a design relative to a fixed design of the same power.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import optimize
from scipy import stats as sps

from shipit._types import FloatArray
from shipit.errors import InputError
from shipit.stats.spending import check_fractions, spent

__all__ = [
    "Boundaries",
    "GstDesign",
    "classical_bounds",
    "crossing_probabilities",
    "expected_fraction",
    "inflation",
    "spending_bounds",
]

Sides: TypeAlias = Literal[1, 2]
_SPAN = 9.0  # grid reaches this many sd beyond the mean where a side is unbounded
_STEP = 10.0  # grid spacing is (kernel sd) / _STEP
_BIG = 40.0  # a z bound this large stands for "no bound"
_MAX_POINTS = 2000  # grid points per look at most


@dataclass(frozen=True)
class Boundaries:
    """Z boundaries of a design at its looks.

    ``efficacy[k]`` is the upper bound of look k (two-sided designs reject when
    |Z_k| ≥ it); ``futility[k]`` is the lower bound of a one-sided design (−inf: none);
    ``alpha_spent`` is the cumulative type I error spent by each look (both sides).
    """

    fractions: FloatArray
    efficacy: FloatArray
    futility: FloatArray
    alpha_spent: FloatArray
    alpha: float
    sides: int

    @property
    def lower(self) -> FloatArray:
        """Lower rejection bound: −efficacy when two-sided, the futility bound otherwise."""
        return -self.efficacy if self.sides == 2 else self.futility


@dataclass(frozen=True)
class GstDesign:
    """A Lan-DeMets design: spending function, level, sides and optional futility spending."""

    spending: str = "obf"
    alpha: float = 0.05
    sides: int = 2
    rho: float = 2.0
    futility: str | None = None
    beta: float = 0.2

    def bounds(self, fractions: npt.ArrayLike, *, final: bool = True) -> Boundaries:
        """The design's boundaries at looks ``fractions`` (see :func:`spending_bounds`)."""
        return spending_bounds(
            fractions,
            alpha=self.alpha,
            sides=self.sides,
            spending=self.spending,
            rho=self.rho,
            final=final,
            futility=self.futility,
            beta=self.beta,
            futility_rho=self.rho,
        )


class _Grid:
    """Sub-density of S(t) on the continuation region, as grid points and their masses."""

    def __init__(self, points: FloatArray, mass: FloatArray, t: float) -> None:
        self.points, self.mass, self.t = points, mass, t

    @classmethod
    def start(cls) -> _Grid:
        return cls(np.zeros(1), np.ones(1), 0.0)

    def cross_above(self, z: float, t: float, drift: float) -> float:
        """P(continue so far and S(t) ≥ z·√t)."""
        d = t - self.t
        x = (z * np.sqrt(t) - self.points - drift * d) / np.sqrt(d)
        return float(np.dot(self.mass, sps.norm.sf(x)))

    def cross_below(self, z: float, t: float, drift: float) -> float:
        """P(continue so far and S(t) ≤ z·√t)."""
        d = t - self.t
        x = (z * np.sqrt(t) - self.points - drift * d) / np.sqrt(d)
        return float(np.dot(self.mass, sps.norm.cdf(x)))

    def upper_bound(self, t: float, target: float, *, both: bool = False) -> float:
        """The z bound at t whose null crossing probability (both sides if ``both``) is target."""
        factor = 2.0 if both else 1.0
        return _solve(lambda z: factor * self.cross_above(z, t, 0.0), target)

    def lower_bound(self, t: float, target: float, drift: float) -> float:
        """The z bound at t below which the crossing probability under a drift is target."""
        return -_solve(lambda z: self.cross_below(-z, t, drift), target)

    def advance(self, low: float, high: float, t: float, drift: float, sd_next: float) -> _Grid:
        """The sub-density at t on the continuation region low < Z < high."""
        d = t - self.t
        sd = np.sqrt(d)
        centre, spread = drift * t, _SPAN * np.sqrt(t)
        lo = max(low * np.sqrt(t), centre - spread) if low > -_BIG else centre - spread
        hi = min(high * np.sqrt(t), centre + spread) if high < _BIG else centre + spread
        if hi <= lo:
            return _Grid(np.zeros(1), np.zeros(1), t)
        # Fine enough for the narrowest kernel, but bounded so that many looks stay fast.
        h = max(min(sd, sd_next) / _STEP, (hi - lo) / _MAX_POINTS)
        m = int(np.ceil((hi - lo) / h / 2.0)) * 2 + 1
        pts = np.linspace(lo, hi, max(m, 3))
        w = np.ones(pts.size)
        w[1:-1:2], w[2:-1:2] = 4.0, 2.0
        w *= (pts[1] - pts[0]) / 3.0
        u = (pts[:, None] - self.points[None, :] - drift * d) / sd
        dens = np.exp(-0.5 * u * u) @ self.mass / (sd * np.sqrt(2.0 * np.pi))
        return _Grid(pts, dens * w, t)


def _kernel_sds(t: FloatArray) -> FloatArray:
    return np.sqrt(np.diff(np.concatenate([[0.0], t])))


def crossing_probabilities(
    fractions: npt.ArrayLike,
    upper: npt.ArrayLike,
    lower: npt.ArrayLike,
    drift: float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """P(first crossing of the upper / lower z bound at look k), for a drift δ.

    Under δ = 0 their total is the type I error of the bounds; under δ > 0 the upper total
    is the power. Use ±inf for a missing bound.
    """
    t = check_fractions(fractions)
    b = np.clip(np.asarray(upper, dtype=np.float64), -_BIG, _BIG)
    a = np.clip(np.asarray(lower, dtype=np.float64), -_BIG, _BIG)
    sds = np.append(_kernel_sds(t), np.inf)
    grid = _Grid.start()
    up, low = np.zeros(t.size), np.zeros(t.size)
    for k in range(t.size):
        up[k] = grid.cross_above(b[k], t[k], drift)
        low[k] = grid.cross_below(a[k], t[k], drift)
        if k + 1 < t.size:
            grid = grid.advance(a[k], b[k], t[k], drift, sds[k + 1])
    return up, low


def _solve(f: Callable[[float], float], target: float) -> float:
    """The z where a decreasing crossing probability f(z) equals target."""
    if target <= 0:
        return np.inf
    if f(-_BIG) <= target:
        return -np.inf
    return float(optimize.brentq(lambda z: f(z) - target, -_BIG, _BIG, xtol=1e-10))


def spending_bounds(
    fractions: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    sides: int = 2,
    spending: str = "obf",
    rho: float = 2.0,
    final: bool = True,
    futility: str | None = None,
    beta: float = 0.2,
    futility_rho: float = 2.0,
) -> Boundaries:
    """Lan-DeMets bounds at the looks ``fractions`` (of the maximum information).

    With ``final`` the last look spends all that is left of alpha whatever its fraction.
    ``futility`` (a spending kind, one-sided designs only) adds non-binding futility
    bounds that spend beta under the drift at which the last futility bound meets the last
    efficacy bound; efficacy bounds ignore them, so they may be overruled safely.

    >>> [round(float(b), 4) for b in spending_bounds([0.25, 0.5, 0.75, 1.0]).efficacy]
    [4.3326, 2.9631, 2.359, 2.0141]
    """
    t = check_fractions(fractions)
    _check_design(alpha, sides)
    level = alpha / sides
    cum = spent(t, level, spending, rho=rho)
    if final:
        cum[-1] = level
    inc = np.diff(np.concatenate([[0.0], cum]))
    sds = np.append(_kernel_sds(t), np.inf)
    grid = _Grid.start()
    bounds = np.zeros(t.size)
    for k in range(t.size):
        tk = float(t[k])
        bounds[k] = grid.upper_bound(tk, sides * inc[k], both=sides == 2)
        lo = -bounds[k] if sides == 2 else -np.inf
        if k + 1 < t.size:
            grid = grid.advance(lo, bounds[k], tk, 0.0, sds[k + 1])
    fut = np.full(t.size, -np.inf)
    if futility is not None:
        if sides != 2:
            fut = _futility_bounds(t, bounds, futility, beta, futility_rho)
        else:
            raise InputError("futility bounds need a one-sided design (sides = 1)")
    return Boundaries(t, bounds, fut, cum * sides, alpha, sides)


def _futility_at(
    t: FloatArray, upper: FloatArray, kind: str, beta: float, rho: float, drift: float
) -> FloatArray:
    """Futility bounds spending beta under a drift (the last one is not clipped to upper)."""
    inc = np.diff(np.concatenate([[0.0], spent(t, beta, kind, rho=rho)]))
    sds = np.append(_kernel_sds(t), np.inf)
    grid = _Grid.start()
    out = np.zeros(t.size)
    for k in range(t.size):
        tk = float(t[k])
        out[k] = grid.lower_bound(tk, inc[k], drift)
        if k + 1 < t.size:
            out[k] = min(out[k], upper[k])
            grid = grid.advance(out[k], upper[k], tk, drift, sds[k + 1])
    return out


def _futility_bounds(
    t: FloatArray, upper: FloatArray, kind: str, beta: float, rho: float
) -> FloatArray:
    """Non-binding futility bounds at the drift where the last one meets the efficacy bound."""
    if not 0.0 < beta < 1.0:
        raise InputError(f"beta must be between 0 and 1, got {beta}")

    def gap(drift: float) -> float:
        return float(_futility_at(t, upper, kind, beta, rho, drift)[-1] - upper[-1])

    drift = float(optimize.brentq(gap, 0.0, 20.0, xtol=1e-8))
    out = _futility_at(t, upper, kind, beta, rho, drift)
    out[-1] = upper[-1]
    return out


def classical_bounds(
    fractions: npt.ArrayLike, *, shape: str = "obf", alpha: float = 0.05, sides: int = 2
) -> Boundaries:
    """Pocock (b_k = C) or O'Brien-Fleming (b_k = C·√(t_K/t_k)) bounds of total size alpha.

    >>> round(float(classical_bounds([1, 2, 3, 4], shape="pocock").efficacy[0]), 3)
    2.361
    """
    t = check_fractions(fractions)
    _check_design(alpha, sides)
    if shape == "obf":
        form = np.sqrt(t[-1] / t)
    elif shape == "pocock":
        form = np.ones(t.size)
    else:
        raise InputError(f"unknown classical shape {shape!r}: expected 'obf' or 'pocock'")
    tn = t / t[-1]

    def size(c: float) -> float:
        up, low = crossing_probabilities(tn, c * form, -c * form if sides == 2 else -np.inf * form)
        return float(up.sum() + low.sum())

    if not size(0.0) > alpha:  # even bounds at 0 reject less often than alpha
        raise InputError(f"alpha {alpha} is too large for a {sides}-sided {shape} design")
    c = float(optimize.brentq(lambda x: size(x) - alpha, 0.0, _BIG, xtol=1e-10))
    up, low = crossing_probabilities(tn, c * form, -c * form if sides == 2 else -np.inf * form)
    return Boundaries(tn, c * form, np.full(t.size, -np.inf), np.cumsum(up + low), alpha, sides)


def inflation(bounds: Boundaries, *, beta: float = 0.2) -> float:
    """Maximum information of the design over that of a fixed design with the same power.

    >>> round(inflation(classical_bounds([1, 2, 3, 4], shape="pocock")), 3)
    1.202
    """
    drift = design_drift(bounds, beta=beta)
    fixed = float(sps.norm.isf(bounds.alpha / bounds.sides) + sps.norm.isf(beta))
    return (drift / fixed) ** 2


def design_drift(bounds: Boundaries, *, beta: float = 0.2) -> float:
    """The drift δ = θ·√I_max at which the design rejects (upwards) with power 1 − beta."""
    if not 0.0 < beta < 1.0:
        raise InputError(f"beta must be between 0 and 1, got {beta}")

    def power(drift: float) -> float:
        up, _ = crossing_probabilities(bounds.fractions, bounds.efficacy, bounds.lower, drift)
        return float(up.sum())

    return float(optimize.brentq(lambda d: power(d) - (1.0 - beta), 0.0, 20.0, xtol=1e-10))


def expected_fraction(bounds: Boundaries, drift: float) -> float:
    """Expected information at stopping, as a fraction of the maximum, under a drift."""
    up, low = crossing_probabilities(bounds.fractions, bounds.efficacy, bounds.lower, drift)
    stop = up + low
    stop[-1] = 1.0 - stop[:-1].sum()
    return float(np.dot(stop, np.minimum(bounds.fractions, 1.0)))


def _check_design(alpha: float, sides: int) -> None:
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be between 0 and 1, got {alpha}")
    if sides not in (1, 2):
        raise InputError(f"sides must be 1 or 2, got {sides}")
