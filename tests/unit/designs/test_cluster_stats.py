"""Cluster-robust comparison: matches statsmodels' cluster sandwich, and on A/A data with
strong intra-cluster correlation it rejects at the nominal rate where the unit test does not."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm

from shipit.stats.clustered import cluster_totals, compare_clustered
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments

SIMS = 1000
CLUSTERS = 100  # per simulated experiment, about 50 per arm
ICC = 0.3


def _cells(
    sims: int, clusters: int, seed: int, effect: float = 0.0
) -> tuple[Moments, np.ndarray, np.ndarray]:
    """Per-(sim, cluster) moments of unit values, as the engine's query grouped by cluster
    returns them, with the arm label of each cell; also each cell's arm (0/1)."""
    rng = np.random.default_rng(seed)
    size = 1 + rng.poisson(19, (sims, clusters))
    treated = rng.random((sims, clusters)) < 0.5
    level = rng.normal(0, np.sqrt(ICC), (sims, clusters)) + effect * treated
    cell = np.repeat(np.arange(sims * clusters), size.reshape(-1))
    y = level.reshape(-1)[cell] + rng.normal(0, np.sqrt(1 - ICC), cell.size)
    n = np.bincount(cell, minlength=sims * clusters).astype(float)
    s1 = np.bincount(cell, y, minlength=sims * clusters)
    s2 = np.bincount(cell, y * y, minlength=sims * clusters)
    labels = [f"c{i}" for i in range(sims * clusters)]
    cells = Moments.from_sums(labels, ["y"], n, s1[:, None], s2[:, None, None])
    return cells, treated.reshape(-1), np.arange(sims).repeat(clusters)


def _arm_labels(treated: np.ndarray, sim: np.ndarray) -> np.ndarray:
    return np.char.add(np.char.add(sim.astype(str), "/"), np.where(treated, "t", "c"))


def test_cluster_robust_rejects_at_nominal_rate_and_naive_over_rejects() -> None:
    cells, treated, sim = _cells(SIMS, CLUSTERS, seed=21)
    arms = _arm_labels(treated, sim)
    control = [f"{i}/c" for i in range(SIMS)]
    variant = [f"{i}/t" for i in range(SIMS)]
    totals = cluster_totals(cells, arms, control + variant, "mean")
    robust = compare_clustered(totals.take(range(SIMS)), totals.take(range(SIMS, 2 * SIMS)))
    # The naive analysis: all units of an arm pooled, as if independent.
    index = {label: i for i, label in enumerate(control + variant)}
    code = np.array([index[a] for a in arms])
    matrix = np.zeros((2 * SIMS, 2, 2))
    np.add.at(matrix, code, cells.matrix)
    units = Moments(tuple(control + variant), ("y",), matrix)
    naive = compare(units.take(range(SIMS)), units.take(range(SIMS, 2 * SIMS)), "mean")
    robust_rate = float(np.mean(robust.p_value < 0.05))
    naive_rate = float(np.mean(naive.p_value < 0.05))
    assert abs(robust_rate - 0.05) <= 0.02, robust_rate
    assert naive_rate > 0.2, naive_rate  # design effect ≈ 1 + 19·0.3 ≈ 6.7


def test_cluster_robust_se_matches_statsmodels_sandwich() -> None:
    cells, treated, _ = _cells(1, 40, seed=5, effect=0.4)
    rng = np.random.default_rng(5)  # rebuild unit rows for statsmodels, same cells
    size = cells.n.astype(int)
    cluster = np.repeat(np.arange(40), size)
    y = np.concatenate(
        [rng.normal(cells.mean("y")[c], 1.0, size[c]) for c in range(40)]
    )  # any unit values with these cluster sizes
    n = np.bincount(cluster).astype(float)
    s1, s2 = np.bincount(cluster, y), np.bincount(cluster, y * y)
    cells = Moments.from_sums(
        [f"c{i}" for i in range(40)], ["y"], n, s1[:, None], s2[:, None, None]
    )
    arms = np.where(treated, "t", "c")
    totals = cluster_totals(cells, arms, ["c", "t"], "mean")
    result = compare_clustered(totals.take([0]), totals.take([1]))
    var = 0.0
    for arm in (False, True):
        keep = treated[cluster] == arm
        fit = sm.OLS(y[keep], np.ones(keep.sum())).fit(
            cov_type="cluster", cov_kwds={"groups": cluster[keep], "use_correction": False}
        )
        g = len(np.unique(cluster[keep]))
        var += fit.bse[0] ** 2 * g / (g - 1)  # the moments use n − 1 over clusters
    t_mean, c_mean = y[treated[cluster]].mean(), y[~treated[cluster]].mean()
    assert np.isclose(result.abs_effect[0], t_mean - c_mean)
    assert np.isclose(result.abs_se[0], np.sqrt(var), rtol=1e-9)


def test_ratio_metric_uses_cluster_sums_of_numerator_and_denominator() -> None:
    rng = np.random.default_rng(8)
    clusters, size = 30, rng.integers(2, 30, 30)
    cell = np.repeat(np.arange(clusters), size)
    den = rng.poisson(3, cell.size).astype(float) + 1
    num = den * rng.gamma(2.0, 1.0 + (cell % 3), cell.size)
    sums = np.column_stack([np.bincount(cell, num), np.bincount(cell, den)])
    n = np.bincount(cell).astype(float)
    cross = np.zeros((clusters, 2, 2))
    for a, col_a in enumerate((num, den)):
        for b, col_b in enumerate((num, den)):
            cross[:, a, b] = np.bincount(cell, col_a * col_b)
    cells = Moments.from_sums([f"c{i}" for i in range(clusters)], ["num", "den"], n, sums, cross)
    arms = np.where(np.arange(clusters) % 2 == 0, "c", "t")
    totals = cluster_totals(cells, arms, ["c", "t"], "ratio")
    result = compare_clustered(totals.take([0]), totals.take([1]))
    var, means = 0.0, []
    for arm in ("c", "t"):
        nums, dens = sums[arms == arm, 0], sums[arms == arm, 1]
        r = nums.sum() / dens.sum()
        means.append(r)
        var += np.var((nums - r * dens) / dens.mean(), ddof=1) / len(nums)
    assert np.isclose(result.abs_effect[0], means[1] - means[0])
    assert np.isclose(result.abs_se[0], np.sqrt(var))
