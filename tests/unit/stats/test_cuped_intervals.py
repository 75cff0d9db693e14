"""CUPED standard errors and degrees of freedom against references computed on raw rows.

- OLS (statsmodels) where the model coincides: both groups with the same residuals;
- the group-heteroscedastic sandwich of the (weighted) regression built from the rows;
- a stratified jackknife for the relative effect, whose adjusted means are correlated.
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from shipit.stats.cuped import adjust, compare_cuped
from shipit.stats.estimands import relative_effect
from shipit.stats.moments import Moments


def _xy(rng: np.random.Generator, n: int, k: int, slope: float = 1.0, sd: float = 1.0):
    x = rng.normal(size=(n, k)) @ rng.normal(size=(k, k)) + 5.0
    y = 2.0 + slope * x.sum(axis=1) + rng.normal(0.0, sd, n)
    return x, y


def _moments(t: np.ndarray, y: np.ndarray, x: np.ndarray) -> Moments:
    cols = {"y": y, **{f"x{j + 1}": x[:, j] for j in range(x.shape[1])}}
    return Moments.from_arrays(np.where(t == 1, "b", "a"), cols, labels=["a", "b"])


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("theta_from", ["min_variance", "within"])
def test_interval_is_ols_when_both_groups_have_the_same_residuals(
    rng: np.random.Generator, k: int, theta_from: str
) -> None:
    """Variant = control shifted (covariates by d, y by 0.4): equal residual variances, so
    the interval, its t degrees of freedom (2n − 2 − k) and the p-value are classical OLS's."""
    n = 20
    x, y = _xy(rng, n, k)
    shift = rng.normal(0.0, 0.5, k)
    xs = np.vstack([x, x + shift])
    ys = np.concatenate([y, y + 0.4 + shift.sum()])
    t = np.repeat([0, 1], n)
    m = _moments(t, ys, xs)
    res = compare_cuped(m["a"], m["b"], "mean", theta_from=theta_from).adjusted
    fit = sm.OLS(ys, np.column_stack([np.ones(2 * n), t, xs - xs.mean(axis=0)])).fit()
    assert res.df[0] == pytest.approx(fit.df_resid, rel=1e-9)
    assert res.abs_se[0] == pytest.approx(fit.bse[1], rel=1e-9)
    np.testing.assert_allclose([res.abs_ci_low[0], res.abs_ci_high[0]], fit.conf_int()[1], 1e-9)
    assert res.p_value[0] == pytest.approx(fit.pvalues[1], rel=1e-7)


def _sandwich(t: np.ndarray, y: np.ndarray, x: np.ndarray, weighted: bool):
    """Var(μ̂_b − μ̂_a), its Satterthwaite dof and σ̂² per group, from the rows."""
    n = np.array([np.sum(t == 0), np.sum(t == 1)], dtype=float)[t]
    w = 1.0 / (n * (n - 1.0)) if weighted else np.ones(t.size)
    design = np.column_stack([t == 0, t == 1, x - x.mean(axis=0)]).astype(float)
    bread = np.linalg.inv(design.T @ (w[:, None] * design))
    hat = design @ bread @ (design * w[:, None]).T
    resid_maker = np.eye(t.size) - hat
    e = resid_maker @ y
    contrast = np.zeros(design.shape[1])
    contrast[:2] = [-1.0, 1.0]
    parts, nus, sigma2 = [], [], []
    for g in (0, 1):
        s = t == g
        nu = np.sum(resid_maker[s] ** 2)  # E[SS_g]/σ² with equal σ
        s2 = np.sum(e[s] ** 2) / nu
        d = np.where(s, s2, 0.0) * w**2
        v = bread @ (design.T @ (d[:, None] * design)) @ bread
        parts.append(contrast @ v @ contrast)
        nus.append(nu)
        sigma2.append(s2)
    var = parts[0] + parts[1]
    df = var**2 / (parts[0] ** 2 / nus[0] + parts[1] ** 2 / nus[1])
    return var, df, sigma2


@pytest.mark.parametrize("theta_from", ["min_variance", "within"])
def test_absolute_variance_is_the_group_sandwich_of_the_rows(
    rng: np.random.Generator, theta_from: str
) -> None:
    """Unequal sizes and noise: σ̂²_g on its dof, Var(θ̂) and Satterthwaite dof, from rows."""
    xa, ya = _xy(rng, 25, 3, sd=1.0)
    xb, yb = _xy(rng, 70, 3, sd=2.5)
    x, y = np.vstack([xa, xb]), np.concatenate([ya, yb])
    t = np.repeat([0, 1], [25, 70])
    m = _moments(t, y, x)
    adj = adjust(m["a"], m["b"], "mean", theta_from=theta_from)
    var, df, sigma2 = _sandwich(t, y, x, weighted=theta_from == "min_variance")
    np.testing.assert_allclose([adj.control.unit_var[0], adj.variant.unit_var[0]], sigma2, 1e-9)
    assert adj.absolute.se[0] ** 2 == pytest.approx(var, rel=1e-9)
    assert adj.df[0] == pytest.approx(df, rel=1e-9)
    res = compare_cuped(m["a"], m["b"], "mean", theta_from=theta_from).adjusted
    half = np.sqrt(var) * sps.t.ppf(0.975, df)
    np.testing.assert_allclose(res.abs_ci_high[0] - res.abs_effect[0], half, rtol=1e-9)
    # the relative interval is built on the correlated-means se and its own dof
    rel_half = adj.relative.se[0] * sps.t.ppf(0.975, adj.relative_df[0])
    np.testing.assert_allclose(res.rel_ci_high[0] - res.rel_effect[0], rel_half, rtol=1e-9)
    assert res.rel_effect[0] == pytest.approx(adj.relative.estimate[0], rel=1e-12)


def _jackknife_relative(t: np.ndarray, y: np.ndarray, x: np.ndarray) -> float:
    """Stratified jackknife variance of the adjusted relative effect, one adjust call."""
    m = _moments(t, y, x)
    z = np.column_stack([np.ones(t.size), y, x])
    outer = z[:, :, None] * z[:, None, :]
    full = {g: m.matrix[g] for g in (0, 1)}
    rows = {g: np.broadcast_to(full[g], (t.size, *full[g].shape)).copy() for g in (0, 1)}
    for g in (0, 1):
        rows[g][t == g] -= outer[t == g]
    labels = tuple(str(i) for i in range(t.size))
    adj = adjust(Moments(labels, m.names, rows[0]), Moments(labels, m.names, rows[1]), "mean")
    rel = adj.relative.estimate
    out = 0.0
    for g in (0, 1):
        r = rel[t == g]
        out += (r.size - 1.0) / r.size * np.sum((r - r.mean()) ** 2)
    return float(out)


@pytest.mark.parametrize("additive", [True, False])
def test_relative_variance_matches_the_jackknife_at_a_large_lift(
    rng: np.random.Generator, additive: bool
) -> None:
    """+50% lift, ρ ≈ 0.95: the correlated adjusted means matter (by 20-40%); the jackknife,
    which recomputes θ̂ and the pooled covariate mean each time, agrees with the delta method."""
    n = 1500
    x = rng.normal(10.0, 3.0, (2 * n, 1))
    t = np.repeat([0, 1], n)
    base = 2.0 + x[:, 0] + rng.normal(0.0, 1.0, 2 * n)
    y = base + 0.5 * 12.0 * t if additive else base * (1.0 + 0.5 * t)
    m = _moments(t, y, x)
    adj = adjust(m["a"], m["b"], "mean")
    ref = _jackknife_relative(t, y, x)
    assert adj.relative.se[0] ** 2 == pytest.approx(ref, rel=0.01)
    # treating the adjusted means as independent is far off
    naive = relative_effect(adj.control, adj.variant).se[0] ** 2
    assert abs(naive / ref - 1.0) > 0.2


def test_min_variance_theta_is_not_worse_than_no_adjustment() -> None:
    """n = 60 vs 300, slopes 1 vs 3: OLS's pooled θ is worse than none in ~half of the runs."""
    rng = np.random.default_rng(3)
    reps = 2_000
    z = {}
    for label, n, slope in (("a", 60, 1.0), ("b", 300, 3.0)):
        x = rng.normal(size=(reps, n))
        y = slope * x + rng.normal(size=(reps, n))
        cols = np.stack([np.ones_like(x), y, x], axis=-1)
        z[label] = np.einsum("eui,euj->eij", cols, cols)
    labels = tuple(str(i) for i in range(reps))
    c, v = Moments(labels, ("y", "x"), z["a"]), Moments(labels, ("y", "x"), z["b"])
    ols = adjust(c, v, "mean", theta_from="within")
    best = adjust(c, v, "mean")
    assert np.mean(ols.variance_reduction < 0) > 0.3
    assert np.mean(best.variance_reduction < 0) < 0.01
    raw_spread = np.var(best.raw_variant.mean - best.raw_control.mean)
    assert np.var(best.absolute.estimate) < 0.6 * raw_spread
    assert np.var(best.absolute.estimate) < 0.6 * np.var(ols.absolute.estimate)
