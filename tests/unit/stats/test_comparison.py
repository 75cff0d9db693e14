"""``compare_moments``: the raw comparison and CUPED beside it, as the two are called alone;
``normal_posterior``: the Normal model on the comparison's estimates."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from shipit.stats.bayesian import NormalPrior
from shipit.stats.comparison import compare_moments
from shipit.stats.cuped import compare_cuped
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments


def _moments(rng: np.random.Generator, lift: float) -> Moments:
    """Two rows (groups) of y with a correlated pre-period x."""
    mats = []
    for _ in range(2):
        x = rng.gamma(2.0, 5.0, 800)
        y = 0.8 * x * lift + rng.normal(0, 3, 800)
        z = np.column_stack([np.ones(800), y, x])
        mats.append(z.T @ z)
    return Moments(("r0", "r1"), ("y", "x1"), np.stack(mats))


def test_raw_and_cuped_are_the_functions_called_alone() -> None:
    rng = np.random.default_rng(3)
    c, v = _moments(rng, 1.0), _moments(rng, 1.05)
    got = compare_moments(c, v, "mean", alpha=0.1, alternative="greater")
    raw = compare(c, v, "mean", alpha=0.1, alternative="greater")
    cuped = compare_cuped(c, v, "mean", alpha=0.1, alternative="greater")
    np.testing.assert_array_equal(got.raw.p_value, raw.p_value)
    assert got.adjusted is not None
    assert got.cuped is not None
    np.testing.assert_array_equal(got.adjusted.abs_effect, cuped.adjusted.abs_effect)
    np.testing.assert_array_equal(got.adjusted.p_value, cuped.adjusted.p_value)
    np.testing.assert_array_equal(got.control.mean, cuped.adjustment.control.mean)
    assert got.best is got.adjusted
    # CUPED cuts the variance with a strongly correlated covariate
    assert np.all(got.adjusted.abs_se < got.raw.abs_se)


def test_without_covariates_or_when_off_there_is_no_cuped() -> None:
    rng = np.random.default_rng(4)
    c, v = _moments(rng, 1.0), _moments(rng, 1.0)
    off = compare_moments(c, v, "mean", cuped=False)
    alone = compare_moments(c.select(("y",)), v.select(("y",)), "mean")
    for cmp in (off, alone):
        assert cmp.adjusted is None
        assert cmp.cuped is None
        assert cmp.relative is None
        assert cmp.best is cmp.raw
    np.testing.assert_allclose(off.raw.p_value, alone.raw.p_value, rtol=1e-12)


def test_flat_posterior_is_the_normal_on_the_relative_effect() -> None:
    """A flat prior: P(better) = Φ(rel / se(rel)), the relative effect's own Normal."""
    rng = np.random.default_rng(5)
    c, v = _moments(rng, 1.0), _moments(rng, 1.03)
    cmp = compare_moments(c.select(("y",)), v.select(("y",)), "mean")
    post = cmp.posterior(NormalPrior(), level=0.9)
    want = sps.norm.cdf(cmp.raw.rel_effect / cmp.raw.rel_se)
    np.testing.assert_allclose(post.prob_better, want, rtol=1e-9)
    half = sps.norm.ppf(0.95) * cmp.raw.rel_se
    np.testing.assert_allclose(post.cred_low, cmp.raw.rel_effect - half, rtol=1e-9)
