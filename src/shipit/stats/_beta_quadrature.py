"""Quadrature over a Beta posterior, shared by the Beta-Binomial probabilities and intervals.

Gauss–Hermite around the narrower posterior when both are near-normal (all parameters
≥ 128), Gauss–Legendre on ±12 sd of it when they are moderately so; tanh–sinh
between extreme quantiles when it is skewed (small parameters), with nodes kept as
distances to the nearer end so that x and 1 − x both keep their precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special as sp

from shipit._types import BoolArray, FloatArray

GL_NODES, GL_WEIGHTS = np.polynomial.legendre.leggauss(64)
WINDOW = 12.0
TAIL = 1e-17
#: Below this smallest parameter a posterior counts as skewed (quantile window, tanh–sinh).
SKEWED = 20.0
#: From this smallest parameter (of both posteriors) on, Gauss–Hermite around the narrower
#: posterior: its density over a Gaussian is smooth, so 32 nodes match 64 Gauss–Legendre.
NEAR_NORMAL = 128.0
GH_NODES, GH_WEIGHTS = np.polynomial.hermite.hermgauss(32)


def std(a: FloatArray, b: FloatArray) -> FloatArray:
    """Standard deviation of Beta(a, b)."""
    s = a + b
    out: FloatArray = np.sqrt(a * b / (s * s * (s + 1.0)))
    return out


def logpdf(x: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """Beta log density at x."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = sp.xlogy(a - 1.0, x) + sp.xlog1py(b - 1.0, -x) - sp.betaln(a, b)
    return out


def tanh_sinh(count: int = 96, h: float = 1.0 / 24.0) -> tuple[FloatArray, FloatArray]:
    """Tanh–sinh nodes on (−1, 1), given as signed gaps to the nearer end, and weights."""
    t = h * np.arange(-count, count + 1)
    u = 0.5 * np.pi * np.sinh(t)
    gap = 2.0 / (1.0 + np.exp(2.0 * np.abs(u)))  # 1 − |tanh u| without cancellation
    weights = h * 0.5 * np.pi * np.cosh(t) / np.cosh(u) ** 2
    return np.where(u < 0, -gap, gap), weights


def gaps(nodes: FloatArray) -> FloatArray:
    """Nodes on (−1, 1) as signed gaps: −(1 + x) near −1, 1 − x near +1."""
    return np.where(nodes < 0, -(1.0 + nodes), 1.0 - nodes)


TS_GAPS, TS_WEIGHTS = tanh_sinh()
GL_GAPS = gaps(GL_NODES)


@dataclass(frozen=True)
class Grid:
    """Quadrature over the narrower of two Beta posteriors (U), the other being W."""

    x: FloatArray  # (G, N) nodes in (0, 1)
    y: FloatArray  # (G, N) 1 − x, exact next to 1
    w: FloatArray  # (G, N) weights times the density of U at the nodes
    u_is_first: BoolArray  # (G,) whether U is X1


def grid(a1: FloatArray, b1: FloatArray, a2: FloatArray, b2: FloatArray) -> Grid:
    """Nodes and density-weighted weights over U, by the rule the rows allow."""
    sd1, sd2 = std(a1, b1), std(a2, b2)
    first = sd1 <= sd2
    au, bu = np.where(first, a1, a2), np.where(first, b1, b2)
    mu, sd = au / (au + bu), np.where(first, sd1, sd2)
    if np.all(np.minimum(np.minimum(a1, b1), np.minimum(a2, b2)) >= NEAR_NORMAL):
        return _hermite(au, bu, mu, sd, first)
    lo = np.maximum(mu - WINDOW * sd, 0.0)
    hi_y = np.maximum(1.0 - mu - WINDOW * sd, 0.0)  # 1 − hi
    # skewed posteriors (small parameters): the window runs between extreme quantiles
    skewed = np.flatnonzero(np.minimum(au, bu) < SKEWED)
    if skewed.size:
        lo[skewed] = sp.betaincinv(au[skewed], bu[skewed], TAIL)
        hi_y[skewed] = sp.betaincinv(bu[skewed], au[skewed], TAIL)
    hi = 1.0 - hi_y
    # Gauss–Legendre where the posterior is smooth and well inside (0, 1); tanh–sinh copes
    # with the fractional powers at the ends otherwise (all rows use it if any needs it)
    if skewed.size == 0:
        gaps, weights = GL_GAPS, GL_WEIGHTS
    else:
        gaps, weights = TS_GAPS, TS_WEIGHTS
    half = (0.5 * (hi - lo))[:, None]
    # offsets from the nearer end, so that x and 1 − x keep their precision at 0 and 1
    near_lo = gaps < 0
    x = np.where(near_lo, lo[:, None] - half * gaps, hi[:, None] - half * gaps)
    y = np.where(near_lo, (1.0 - lo[:, None]) + half * gaps, hi_y[:, None] + half * gaps)
    x, y = np.maximum(x, 1e-300), np.maximum(y, 1e-300)
    w = weights * np.exp(logpdf2(x, y, au[:, None], bu[:, None]))
    # normalizing the quadrature of the density cancels most of its error
    w = w / np.sum(w, axis=1, keepdims=True)
    return Grid(x, y, w, first)


def _hermite(
    au: FloatArray, bu: FloatArray, mu: FloatArray, sd: FloatArray, first: BoolArray
) -> Grid:
    """Gauss–Hermite nodes at the mean ± √2·sd·t, weighted by the Beta density over e^(−t²)."""
    half_width = np.sqrt(2.0) * sd[:, None]
    offset = half_width * GH_NODES
    x = mu[:, None] + offset
    y = (1.0 - mu)[:, None] - offset
    # the outermost node lies 10.1 sd out, and mean / sd ≥ √a ≥ √128 ≈ 11.3 (same for
    # 1 − mean with b), so every node stays inside (0, 1)
    logw = np.log(GH_WEIGHTS) + GH_NODES**2 + logpdf2(x, y, au[:, None], bu[:, None])
    w = np.exp(logw - np.max(logw, axis=1, keepdims=True))
    return Grid(x, y, w / np.sum(w, axis=1, keepdims=True), first)


def logpdf2(x: FloatArray, y: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """Beta log density at x given both x and y = 1 − x."""
    out: FloatArray = sp.xlogy(a - 1.0, x) + sp.xlogy(b - 1.0, y) - sp.betaln(a, b)
    return out


def cdf_sf(
    a: FloatArray, b: FloatArray, x: FloatArray, y: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """I_x(a, b) and 1 − I_x(a, b), each from the side where it is accurate."""
    low = x < 0.5
    # I_x(a, b) = 1 − I_{1−x}(b, a): one call, on whichever side keeps the precision
    v = sp.betainc(np.where(low, a, b), np.where(low, b, a), np.where(low, x, y))
    return np.where(low, v, 1.0 - v), np.where(low, 1.0 - v, v)


def by_rule(
    rows: BoolArray, a1: FloatArray, b1: FloatArray, a2: FloatArray, b2: FloatArray
) -> list[BoolArray]:
    """Rows split by quadrature rule, so skewed rows do not impose tanh–sinh on all."""
    smallest = np.minimum(np.minimum(a1, b1), np.minimum(a2, b2))
    skewed, normal = smallest < SKEWED, smallest >= NEAR_NORMAL
    parts = (rows & normal, rows & ~skewed & ~normal, rows & skewed)
    return [part for part in parts if np.any(part)]
