"""Bayesian outputs follow the metric's direction: for an error rate, better means lower.

Every model (Beta-Binomial, Normal, Normal on CUPED-adjusted estimates) is checked in both
directions against seeded Monte Carlo draws from its posterior, and end to end through
``shipit stats``: an error rate that went from 5% to 6% must not ship.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

from shipit.analysis.given import run_stats
from shipit.stats.bayesian import compare_normal
from shipit.stats.beta_binomial import compare_beta
from shipit.stats.estimands import summarize
from shipit.stats.moments import Moments

DRAWS = 2_000_000


def _mc_check(better: np.ndarray, loss_ship: np.ndarray, loss_keep: np.ndarray, res: Any) -> None:
    """Closed forms against draws: P(better) within 5 MC standard errors, losses within 1%."""
    p = better.mean()
    assert res.prob_better[0] == pytest.approx(p, abs=5 * np.sqrt(p * (1 - p) / DRAWS) + 1e-6)
    for ours, draws in (
        (res.expected_loss_variant[0], loss_ship),
        (res.expected_loss_control[0], loss_keep),
    ):
        assert ours == pytest.approx(draws.mean(), rel=0.01, abs=5 * draws.std() / np.sqrt(DRAWS))


@pytest.mark.parametrize("higher_is_better", [True, False])
@pytest.mark.parametrize(("control", "variant"), [(500, 600), (600, 500), (300, 310)])
def test_beta_binomial_direction_against_posterior_draws(
    higher_is_better: bool, control: int, variant: int
) -> None:
    n = 10_000
    res = compare_beta([control], [n], [variant], [n], higher_is_better=higher_is_better)
    rng = np.random.default_rng(control + variant)
    pc = rng.beta(1 + control, 1 + n - control, DRAWS)
    pv = rng.beta(1 + variant, 1 + n - variant, DRAWS)
    gain = pv - pc if higher_is_better else pc - pv  # how much better the variant is
    _mc_check(gain > 0, np.maximum(-gain, 0.0), np.maximum(gain, 0.0), res)
    # the credible intervals are of p_variant − p_control whichever way is better
    lo, hi = np.quantile(pv - pc, [0.025, 0.975])
    assert res.abs_cred_low[0] == pytest.approx(lo, abs=2e-4)
    assert res.abs_cred_high[0] == pytest.approx(hi, abs=2e-4)


def test_beta_binomial_lower_is_better_keeps_small_probabilities() -> None:
    """P(p_v < p_c) is computed, not 1 − P(p_v > p_c): 1e-20 is not rounded to 0."""
    up = compare_beta([500], [10_000], [900], [10_000])
    down = compare_beta([500], [10_000], [900], [10_000], higher_is_better=False)
    flipped = compare_beta([900], [10_000], [500], [10_000])
    assert 0.0 < down.prob_better[0] < 1e-15
    # P(p_v < p_c) is P(variant > control) with the two groups' roles exchanged
    assert down.prob_better[0] == pytest.approx(flipped.prob_better[0], rel=1e-9)
    assert down.expected_loss_variant[0] == pytest.approx(up.expected_loss_control[0], rel=1e-12)
    assert down.expected_loss_control[0] == pytest.approx(up.expected_loss_variant[0], rel=1e-12)


def _loss_by_double_integral(a1: float, b1: float, a2: float, b2: float) -> float:
    """E[(X2 − X1)+] as ∫∫ (x2 − x1) f1 f2 over x2 > x1: positive terms, nothing cancels."""
    d1, d2 = sps.beta(a1, b1), sps.beta(a2, b2)
    lo2, hi2 = d2.ppf(1e-15), d2.isf(1e-15)
    lo1, hi1 = d1.ppf(1e-15), d1.isf(1e-15)

    def inner(x1: float) -> float:
        lo = max(x1, lo2)
        if lo >= hi2:
            return 0.0
        f = integrate.quad(lambda x2: (x2 - x1) * d2.pdf(x2), lo, hi2, epsabs=0, epsrel=1e-12)
        return float(f[0])

    pts = np.linspace(lo1, hi1, 9)[1:-1]
    out = integrate.quad(
        lambda x1: d1.pdf(x1) * inner(x1), lo1, hi1, points=pts, epsabs=0, epsrel=1e-11, limit=200
    )
    return float(out[0])


@pytest.mark.slow
def test_expected_loss_keeps_its_precision_for_rates_near_one() -> None:
    """99.99% vs 99.995% success: m·P − m·P' cancels in m ≈ 1 unless computed reflected."""
    sc, sv, n = 99_990, 99_995, 100_000
    res = compare_beta([sc], [n], [sv], [n])
    av, bv, ac, bc = 1.0 + sv, 1.0 + n - sv, 1.0 + sc, 1.0 + n - sc
    ship = _loss_by_double_integral(av, bv, ac, bc)  # E[(p_c − p_v)+]
    keep = _loss_by_double_integral(ac, bc, av, bv)
    assert res.expected_loss_variant[0] == pytest.approx(ship, rel=1e-8)
    assert res.expected_loss_control[0] == pytest.approx(keep, rel=1e-8)


def _groups(rng: np.random.Generator, means: tuple[float, float], n: int = 4_000):
    y = [rng.exponential(m, n) for m in means]
    m = Moments.from_arrays(np.repeat(["c", "v"], n), {"y": np.concatenate(y)})
    return summarize(m.take([0]), "mean"), summarize(m.take([1]), "mean")


@pytest.mark.parametrize("higher_is_better", [True, False])
@pytest.mark.parametrize("scale", ["absolute", "relative"])
def test_normal_model_direction_against_posterior_draws(
    rng: np.random.Generator, higher_is_better: bool, scale: str
) -> None:
    c, v = _groups(rng, (2.0, 2.06))
    res = compare_normal(c, v, scale=scale, higher_is_better=higher_is_better)  # type: ignore[arg-type]
    draws = np.random.default_rng(9).normal(res.post_mean[0], res.post_sd[0], DRAWS)
    gain = draws if higher_is_better else -draws
    _mc_check(gain > 0, np.maximum(-gain, 0.0), np.maximum(gain, 0.0), res)


def _error_rate_request(control: int, variant: int, **metric: Any) -> dict[str, Any]:
    variants = {"control": {"n": 10_000, "sum": control}, "fix": {"n": 10_000, "sum": variant}}
    return {
        "method": "bayesian",
        "metrics": [{"name": "errors", "kind": "proportion", "variants": variants, **metric}],
    }


@pytest.mark.parametrize("where", ["metric", "top"])
def test_an_error_rate_that_got_worse_does_not_ship(where: str) -> None:
    data = _error_rate_request(500, 600)
    if where == "metric":
        data["metrics"][0]["alternative"] = "less"
    else:
        data["alternative"] = "less"
    worse = run_stats(data)["results"][0]
    assert worse["bayes_model"] == "beta"
    assert worse["prob_better"] < 0.01
    assert worse["ship"] is False
    # E[(p_v − p_c)+] ≈ 0.01: shipping it costs a point of errors
    assert worse["expected_loss_variant"] == pytest.approx(0.01, rel=0.05)
    assert worse["expected_loss_control"] < 1e-5
    better = _error_rate_request(600, 500)
    better["metrics"][0]["alternative"] = "less"
    fixed = run_stats(better)["results"][0]
    assert fixed["prob_better"] > 0.99
    assert fixed["ship"] is True
    # higher is better (the default): the same 5% → 6% is a win
    assert run_stats(_error_rate_request(500, 600))["results"][0]["ship"] is True


def _mean_with_covariate(rng: np.random.Generator, lift: float, n: int = 5_000) -> dict[str, Any]:
    x = rng.gamma(2.0, 3.0, n)
    y = 2.0 + x * (1.0 + lift) + rng.normal(0.0, 2.0, n)
    return {
        "n": n,
        "sum": float(y.sum()),
        "sum_sq": float(y @ y),
        "cov_sums": [float(x.sum())],
        "cov_sq": [[float(x @ x)]],
        "cov_y": [float(x @ y)],
    }


@pytest.mark.parametrize("covariates", [False, True])
def test_normal_models_follow_less_through_stats(
    rng: np.random.Generator, covariates: bool
) -> None:
    """Latency up 4%: with lower-is-better it must not ship, raw or CUPED-adjusted."""
    variants = {"control": _mean_with_covariate(rng, 0.0), "slow": _mean_with_covariate(rng, 0.04)}
    if not covariates:
        for v in variants.values():
            for key in ("cov_sums", "cov_sq", "cov_y"):
                del v[key]
    metric = {"name": "latency", "kind": "mean", "variants": variants}
    up = run_stats({"method": "bayesian", "metrics": [metric]})["results"][0]
    down = run_stats({"method": "bayesian", "metrics": [metric | {"alternative": "less"}]})
    r = down["results"][0]
    assert r["bayes_model"] == ("normal_cuped" if covariates else "normal")
    assert up["ship"] is True
    assert r["ship"] is False
    assert r["prob_better"] == pytest.approx(1.0 - up["prob_better"], abs=1e-12)
    assert r["expected_loss_variant"] == pytest.approx(up["expected_loss_control"], rel=1e-12)


def test_prob_best_of_an_error_rate_picks_the_lowest() -> None:
    variants = {
        "control": {"n": 10_000, "sum": 500},
        "b": {"n": 10_000, "sum": 600},
        "c": {"n": 10_000, "sum": 420},
    }
    data = {
        "method": "bayesian",
        "metrics": [{"name": "errors", "kind": "proportion", "variants": variants}],
        "alternative": "less",
    }
    out = run_stats(data)
    best = out["metrics"][0]["prob_best"]
    assert max(best, key=best.get) == "c"
    ships = {r["variant"]: r["ship"] for r in out["results"]}
    assert ships == {"b": False, "c": True}
