"""CUPED on moments against OLS on the raw rows, simulations with known ρ, and fallbacks."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from shipit.errors import InputError
from shipit.stats.cuped import CupedStatus, adjust, compare_cuped
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments


def _data(rng: np.random.Generator, n: int, k: int, lift: float = 0.3):
    t = rng.integers(0, 2, n)
    x = rng.normal(size=(n, k)) @ rng.normal(size=(k, k)) + rng.normal(5.0, 1.0, k)
    y = 1.0 + lift * t + x @ rng.normal(size=k) + rng.normal(size=n)
    cols = {"y": y, **{f"x{j + 1}": x[:, j] for j in range(k)}}
    m = Moments.from_arrays(np.where(t == 1, "b", "a"), cols, labels=["a", "b"])
    return t, x, y, m


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_cuped_equals_ols_on_raw_rows(rng: np.random.Generator, k: int) -> None:
    t, x, y, m = _data(rng, 800, k)
    res = adjust(m["a"], m["b"], "mean", theta_from="within")
    fit = sm.OLS(y, np.column_stack([np.ones(t.size), t, x - x.mean(axis=0)])).fit()
    np.testing.assert_allclose(res.theta[0], fit.params[2:], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.control.mean[0], fit.params[0], rtol=1e-8)
    effect = res.variant.mean[0] - res.control.mean[0]
    np.testing.assert_allclose(effect, fit.params[1], rtol=1e-8)
    assert res.status[0] == CupedStatus.OK
    comp = compare_cuped(m["a"], m["b"], "mean", theta_from="within")
    np.testing.assert_allclose(comp.adjusted.abs_effect[0], fit.params[1], rtol=1e-8)


@pytest.mark.parametrize("k", [1, 3])
def test_min_variance_theta_is_wls_with_group_weights(rng: np.random.Generator, k: int) -> None:
    """θ minimising Σ_g Var(y − θx)/n_g is WLS of y on group dummies and x, weights 1/(n(n−1))."""
    t, x, y, m = _data(rng, 500, k)
    res = adjust(m["a"], m["b"], "mean")
    n = np.where(t == 1, m.n[1], m.n[0])
    design = np.column_stack([t == 0, t == 1, x - x.mean(axis=0)]).astype(float)
    fit = sm.WLS(y, design, weights=1.0 / (n * (n - 1.0))).fit()
    np.testing.assert_allclose(res.theta[0], fit.params[2:], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.control.mean[0], fit.params[0], rtol=1e-8)
    np.testing.assert_allclose(res.variant.mean[0], fit.params[1], rtol=1e-8)
    # equal group sizes: the same θ as OLS
    eq = Moments.from_arrays(
        np.repeat(["a", "b"], 200),
        {"y": y[:400], **{f"x{j + 1}": x[:400, j] for j in range(k)}},
    )
    np.testing.assert_allclose(
        adjust(eq["a"], eq["b"], "mean").theta,
        adjust(eq["a"], eq["b"], "mean", theta_from="within").theta,
        rtol=1e-10,
    )


def test_variance_reduction_is_partial_r_squared(rng: np.random.Generator) -> None:
    t, x, y, m = _data(rng, 40_000, 3)
    res = adjust(m["a"], m["b"], "mean")
    full = sm.OLS(y, np.column_stack([np.ones(t.size), t, x])).fit()
    base = sm.OLS(y, np.column_stack([np.ones(t.size), t])).fit()
    r2 = 1.0 - full.ssr / base.ssr
    assert res.variance_reduction[0] == pytest.approx(r2, abs=2e-3)
    n = m.n.sum()
    assert res.equivalent_n[0] == pytest.approx(n / (1.0 - res.variance_reduction[0]))


@pytest.mark.parametrize("rho", [0.2, 0.5, 0.8, 0.95])
def test_variance_reduction_is_rho_squared(rho: float) -> None:
    rng = np.random.default_rng(7)
    rows, n = 40, 5_000
    groups, ys, xs = [], [], []
    for r in range(rows):
        for label in ("a", "b"):
            x = rng.normal(size=n)
            y = rho * x + np.sqrt(1.0 - rho**2) * rng.normal(size=n)
            groups.append(np.full(n, f"{label}{r}"))
            ys.append(y)
            xs.append(x)
    m = Moments.from_arrays(
        np.concatenate(groups), {"y": np.concatenate(ys), "x": np.concatenate(xs)}
    )
    control = m[[f"a{r}" for r in range(rows)]]
    variant = m[[f"b{r}" for r in range(rows)]]
    res = adjust(control, variant, "mean")
    assert res.variance_reduction.mean() == pytest.approx(rho**2, abs=0.01)
    np.testing.assert_allclose(res.theta[:, 0], rho, atol=0.05)


def test_collinear_covariate_is_dropped_per_row(rng: np.random.Generator) -> None:
    n = 400
    t = np.repeat(["a", "b"], n)
    x1 = rng.normal(size=2 * n)
    y = x1 + rng.normal(size=2 * n)
    cols = {"y": y, "x1": x1, "x2": 2.0 * x1 + 3.0, "x3": rng.normal(size=2 * n)}
    m = Moments.from_arrays(t, cols)
    res = adjust(m["a"], m["b"], "mean")
    assert res.status[0] == CupedStatus.REDUCED
    assert res.used[0].tolist() == [True, False, True]
    only = adjust(m["a"], m["b"], "mean", covariates=["x1", "x3"])
    np.testing.assert_allclose(res.theta[0, [0, 2]], only.theta[0], rtol=1e-9)
    assert res.theta[0, 1] == 0.0


def test_near_singular_and_constant_covariates_fall_back() -> None:
    rng = np.random.default_rng(3)
    n = 300
    t = np.repeat(["a", "b"], n)
    x1 = rng.normal(size=2 * n)
    y = x1 + rng.normal(size=2 * n)
    near = {"y": y, "x1": x1, "x2": x1 + 1e-9 * rng.normal(size=2 * n)}
    res = adjust(*_pair(Moments.from_arrays(t, near)), "mean")
    assert res.used[0].tolist() == [True, False]
    const = {"y": y, "x1": np.full(2 * n, 5.0)}
    m = Moments.from_arrays(t, const)
    res = adjust(*_pair(m), "mean")
    assert res.status[0] == CupedStatus.NONE
    raw = compare(m["a"], m["b"], "mean")
    comp = compare_cuped(m["a"], m["b"], "mean")
    np.testing.assert_array_equal(comp.adjusted.p_value, raw.p_value)
    assert res.variance_reduction[0] == 0.0


def test_rows_fall_back_independently_and_degenerate_rows_do_not_raise() -> None:
    rng = np.random.default_rng(5)
    parts = []
    for r, kind in enumerate(["fine", "collinear", "tiny"]):
        n = 2 if kind == "tiny" else 200
        x1 = rng.normal(size=2 * n)
        x2 = 3.0 * x1 if kind == "collinear" else rng.normal(size=2 * n)
        cols = {"y": x1 + rng.normal(size=2 * n), "x1": x1, "x2": x2}
        parts.append(Moments.from_arrays(np.repeat([f"a{r}", f"b{r}"], n), cols))
    m = Moments.concat(parts)
    res = adjust(m.take([0, 2, 4]), m.take([1, 3, 5]), "mean")
    assert res.status.tolist()[:2] == [CupedStatus.OK, CupedStatus.REDUCED]
    assert res.status[2] in (CupedStatus.REDUCED, CupedStatus.NONE)
    empty = Moments(("a", "b"), ("y", "x"), np.zeros((2, 3, 3)))
    out = compare_cuped(empty.take([0]), empty.take([1]), "mean")
    assert out.adjustment.status[0] == CupedStatus.NONE
    assert out.adjusted.status[0] == "too_few_units"


def _pair(m: Moments) -> tuple[Moments, Moments]:
    return m["a"], m["b"]


def test_ratio_cuped_matches_regression_of_linearization(rng: np.random.Generator) -> None:
    n = 3_000
    t = rng.integers(0, 2, n)
    den = rng.poisson(5.0, n) + 1.0
    pre_den = den + rng.poisson(1.0, n)
    pre_num = pre_den * rng.gamma(4.0, 0.5, n)
    num = 0.6 * pre_num / pre_den * den + rng.normal(0.0, 1.0, n) + 0.1 * t * den
    x = rng.normal(size=n) + 0.01 * num
    cols = {"num": num, "den": den, "pre_num": pre_num, "pre_den": pre_den, "x": x}
    labels = np.where(t == 1, "b", "a")
    m = Moments.from_arrays(labels, cols, labels=["a", "b"])
    res = adjust(
        m["a"], m["b"], "ratio", covariates=[("pre_num", "pre_den"), "x"], theta_from="within"
    )

    # reference: per-unit linearizations on raw rows, then OLS with a treatment dummy
    lin = np.empty(n)
    lin_pre = np.empty(n)
    ratios = {}
    for g in (0, 1):
        s = t == g
        r = num[s].sum() / den[s].sum()
        rx = pre_num[s].sum() / pre_den[s].sum()
        lin[s] = (num[s] - r * den[s]) / den[s].mean()
        lin_pre[s] = (pre_num[s] - rx * pre_den[s]) / pre_den[s].mean()
        ratios[g] = (r, rx, x[s].mean())
    design = np.column_stack([np.ones(n), t, lin_pre, x])
    fit = sm.OLS(lin, design).fit()
    np.testing.assert_allclose(res.theta[0], fit.params[2:], rtol=1e-8)
    leverage = fit.get_influence().hat_matrix_diag
    for g, stats in ((0, res.control), (1, res.variant)):
        s = t == g
        # residual variance on the group's residual degrees of freedom, n_g − Σ leverage
        np.testing.assert_allclose(
            stats.unit_var[0], np.sum(fit.resid[s] ** 2) / (s.sum() - leverage[s].sum()), rtol=1e-8
        )
    rx_pool = pre_num.sum() / pre_den.sum()
    r0, rx0, x0 = ratios[0]
    expected = r0 - fit.params[2] * (rx0 - rx_pool) - fit.params[3] * (x0 - x.mean())
    np.testing.assert_allclose(res.control.mean[0], expected, rtol=1e-10)
    assert res.variance_reduction[0] > 0.0


def test_proportion_cuped_uses_binomial_variance(rng: np.random.Generator) -> None:
    n = 5_000
    t = np.repeat(["a", "b"], n)
    x = rng.binomial(1, 0.3, 2 * n).astype(float)
    y = (rng.uniform(size=2 * n) < 0.1 + 0.5 * x).astype(float)
    m = Moments.from_arrays(t, {"y": y, "x": x})
    res = adjust(m["a"], m["b"], "proportion")
    raw = res.raw_control
    p = m["a"].mean("y")
    np.testing.assert_allclose(raw.unit_var, p * (1 - p))
    s = t == "a"
    resid = y[s] - res.theta[0, 0] * x[s]
    # the binomial convention (n, not n − 1) less the slope's share of degrees of freedom
    fit = sm.OLS(y, np.column_stack([s, ~s, x]).astype(float)).fit()
    slope_dof = fit.get_influence().hat_matrix_diag[s].sum() - 1.0
    ss = resid.var(ddof=0) * n
    np.testing.assert_allclose(res.control.unit_var[0], ss / (n - slope_dof), rtol=1e-9)
    assert 0.0 < res.variance_reduction[0] < 1.0


@settings(max_examples=30, deadline=None)
@given(shift=st.floats(-1e3, 1e3), seed=st.integers(0, 2**16))
def test_adjusted_effect_ignores_covariate_location(shift: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    t = np.repeat(["a", "b"], n)
    x = rng.normal(size=2 * n)
    y = x + rng.normal(size=2 * n)
    base = adjust(*_pair(Moments.from_arrays(t, {"y": y, "x": x})), "mean")
    moved = adjust(*_pair(Moments.from_arrays(t, {"y": y, "x": x + shift})), "mean")
    eff = base.variant.mean - base.control.mean
    np.testing.assert_allclose(moved.variant.mean - moved.control.mean, eff, atol=1e-7)
    np.testing.assert_allclose(moved.theta, base.theta, rtol=1e-6, atol=1e-9)


def test_bad_inputs_name_the_problem(rng: np.random.Generator) -> None:
    _, _, _, m = _data(rng, 50, 1)
    with pytest.raises(InputError, match="kind"):
        adjust(m["a"], m["b"], "median")
    with pytest.raises(InputError, match="no column 'z'"):
        adjust(m["a"], m["b"], "mean", covariates=["z"])
    with pytest.raises(InputError, match="rows"):
        adjust(m, m["b"], "mean")
    with pytest.raises(InputError, match="theta_from"):
        adjust(m["a"], m["b"], "mean", theta_from="both")


def test_cuped_pulls_estimates_to_the_truth_and_keeps_coverage() -> None:
    """Seeded experiments with a known +7% lift: smaller error, 95% intervals still 95%."""
    rng = np.random.default_rng(13)
    rows, n, rho, lift = 2_000, 200, 0.8, 0.07
    groups, ys, xs = [], [], []
    for r in range(rows):
        for label, effect in (("a", 0.0), ("b", lift)):
            x = rng.normal(size=n)
            y = 1.0 + effect + rho * x + np.sqrt(1.0 - rho**2) * rng.normal(size=n)
            groups.append(np.full(n, f"{label}{r}"))
            ys.append(y)
            xs.append(x)
    m = Moments.from_arrays(
        np.concatenate(groups), {"y": np.concatenate(ys), "x": np.concatenate(xs)}
    )
    control = m[[f"a{r}" for r in range(rows)]]
    variant = m[[f"b{r}" for r in range(rows)]]
    comp = compare_cuped(control, variant, "mean")
    raw_err = comp.raw.rel_effect - lift
    adj_err = comp.adjusted.rel_effect - lift
    # mean squared error shrinks by about 1 − ρ² = 0.36
    ratio = np.mean(adj_err**2) / np.mean(raw_err**2)
    assert ratio == pytest.approx(1.0 - rho**2, abs=0.05)
    covered = (comp.adjusted.abs_ci_low <= lift) & (lift <= comp.adjusted.abs_ci_high)
    assert covered.mean() == pytest.approx(0.95, abs=0.015)
