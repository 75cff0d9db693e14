"""Interval coverage by seeded simulation: 95% intervals cover the truth 95% ± 1% of the time.

Each test draws the per-unit data of many experiments at once, reduces it to moments, and
runs one vectorized compare over all experiments.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from shipit.stats import Moments, compare

EXPERIMENTS = 20_000
UNITS = 400
CHUNK = 2_000


def _moments_from_rows(columns: dict[str, np.ndarray]) -> Moments:
    """Moments of each experiment (row) from (experiments, units) arrays, vectorized."""
    names = tuple(columns)
    z = np.stack([np.ones_like(columns[names[0]]), *columns.values()], axis=-1)
    matrix = np.einsum("eui,euj->eij", z, z)
    return Moments(tuple(str(i) for i in range(len(matrix))), names, matrix)


Draw = Callable[[np.random.Generator, int], tuple[dict[str, np.ndarray], ...]]


def _simulate(draw: Draw, seed: int) -> tuple[Moments, Moments]:
    rng = np.random.default_rng(seed)
    controls, variants = [], []
    for start in range(0, EXPERIMENTS, CHUNK):
        c, v = draw(rng, CHUNK)
        controls.append(_moments_from_rows(c).rename([f"{start + i}" for i in range(CHUNK)]))
        variants.append(_moments_from_rows(v).rename([f"{start + i}" for i in range(CHUNK)]))
    return Moments.concat(controls), Moments.concat(variants)


def _coverage(lo: np.ndarray, hi: np.ndarray, truth: float) -> float:
    return float(np.mean((lo <= truth) & (truth <= hi)))


def _check(control: Moments, variant: Moments, kind: str, abs_true: float, rel_true: float) -> None:
    res = compare(control, variant, kind)
    assert set(res.status) == {"ok"}
    abs_cov = _coverage(res.abs_ci_low, res.abs_ci_high, abs_true)
    rel_cov = _coverage(res.rel_ci_low, res.rel_ci_high, rel_true)
    assert 0.94 <= abs_cov <= 0.96, abs_cov
    assert 0.94 <= rel_cov <= 0.96, rel_cov


@pytest.mark.slow
def test_proportion_intervals_cover() -> None:
    rng = np.random.default_rng(11)
    n = 3000
    pc, pv = 0.10, 0.115
    cc, cv = rng.binomial(n, pc, EXPERIMENTS), rng.binomial(n, pv, EXPERIMENTS)
    labels = [str(i) for i in range(EXPERIMENTS)]
    nn = np.full(EXPERIMENTS, float(n))

    def mom(s: np.ndarray) -> Moments:
        return Moments.from_sums(labels, ["y"], nn, s[:, None], s[:, None, None])

    _check(mom(cc.astype(float)), mom(cv.astype(float)), "proportion", pv - pc, pv / pc - 1)


@pytest.mark.slow
def test_mean_intervals_cover_skewed_data() -> None:
    mc, mv = 2.0, 2.1

    def draw(rng: np.random.Generator, k: int) -> tuple[dict[str, np.ndarray], ...]:
        return (
            {"y": rng.exponential(mc, (k, UNITS))},
            {"y": rng.exponential(mv, (k, UNITS))},
        )

    control, variant = _simulate(draw, 12)
    _check(control, variant, "mean", mv - mc, mv / mc - 1)


@pytest.mark.slow
def test_ratio_intervals_cover() -> None:
    lc, lv = 0.30, 0.33  # clicks per session; sessions per unit are 1 + Poisson(3)

    def draw(rng: np.random.Generator, k: int) -> tuple[dict[str, np.ndarray], ...]:
        out = []
        for lam in (lc, lv):
            den = 1.0 + rng.poisson(3.0, (k, UNITS))
            out.append({"num": rng.poisson(lam * den).astype(float), "den": den})
        return tuple(out)

    control, variant = _simulate(draw, 13)
    _check(control, variant, "ratio", lv - lc, lv / lc - 1)
