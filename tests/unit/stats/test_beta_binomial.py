"""Beta-Binomial: Evan Miller's sum, Monte Carlo, numerical integrals and bad counts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy import stats as sps
from scipy.special import betaln

from shipit.errors import InputError
from shipit.stats.beta_binomial import BetaPrior, compare_beta, posterior, prob_greater


def miller(a_b: float, b_b: float, a_a: float, b_a: float) -> float:
    """P(pB > pA) by Evan Miller's sum over i < a_b, written as a plain loop."""
    total = 0.0
    for i in range(int(a_b)):
        total += math.exp(
            betaln(a_a + i, b_a + b_b) - math.log(b_b + i) - betaln(1 + i, b_b) - betaln(a_a, b_a)
        )
    return total


CASES = [
    (3, 50, 5, 40),
    (30, 970, 25, 975),
    (1, 1, 1, 1),
    (12, 3, 40, 9),
    (301, 9701, 331, 9671),  # beyond the exact sum: integrated
    (1500, 8500, 1400, 8600),
    (2500, 400, 2450, 420),
]


@pytest.mark.parametrize(("a1", "b1", "a2", "b2"), CASES)
def test_prob_greater_matches_evan_miller(a1: int, b1: int, a2: int, b2: int) -> None:
    got = prob_greater(a1, b1, a2, b2)
    assert got == pytest.approx(miller(a1, b1, a2, b2), abs=1e-9)


def test_prob_greater_is_vectorized_and_complementary() -> None:
    a1, b1, a2, b2 = (np.array(c, dtype=float) for c in zip(*CASES, strict=True))
    p = prob_greater(a1, b1, a2, b2)
    q = prob_greater(a2, b2, a1, b1)
    np.testing.assert_allclose(p + q, 1.0, atol=1e-10)
    ref = [miller(*c) for c in CASES]
    np.testing.assert_allclose(p, ref, atol=1e-9)


@pytest.mark.parametrize(("a1", "b1", "a2", "b2"), [(30, 970, 25, 975), (301, 9701, 331, 9671)])
def test_prob_and_losses_match_monte_carlo(a1: int, b1: int, a2: int, b2: int) -> None:
    rng = np.random.default_rng(11)
    draws = 1_000_000
    x2 = rng.beta(a2, b2, draws)  # control
    x1 = rng.beta(a1, b1, draws)  # variant
    res = compare_beta([a2 - 1], [a2 + b2 - 2], [a1 - 1], [a1 + b1 - 2])
    win = x1 > x2
    se = math.sqrt(win.mean() * (1 - win.mean()) / draws)
    assert res.prob_better[0] == pytest.approx(win.mean(), abs=5 * se)
    for got, sample in (
        (res.expected_loss_variant[0], np.maximum(x2 - x1, 0.0)),
        (res.expected_loss_control[0], np.maximum(x1 - x2, 0.0)),
    ):
        assert got == pytest.approx(sample.mean(), abs=5 * sample.std() / math.sqrt(draws))
    d = x1 - x2
    lo, hi = np.quantile(d, [0.025, 0.975])
    assert res.abs_cred_low[0] == pytest.approx(lo, abs=0.01 * d.std())
    assert res.abs_cred_high[0] == pytest.approx(hi, abs=0.01 * d.std())
    r = x1 / x2 - 1.0
    lo, hi = np.quantile(r, [0.025, 0.975])
    assert res.rel_cred_low[0] == pytest.approx(lo, abs=0.01 * r.std())
    assert res.rel_cred_high[0] == pytest.approx(hi, abs=0.01 * r.std())


def _quad_prob(a1: float, b1: float, a2: float, b2: float) -> float:
    """∫ x^(a1−1) (1−x)^(b1−1) F2(x) dx / B(a1, b1), the end singularities as QUADPACK weights."""
    if min(a1, b1) >= 2:
        g = lambda x: sps.beta.pdf(x, a1, b1) * sps.beta.cdf(x, a2, b2)  # noqa: E731
        return float(integrate.quad(g, 0, 1, epsabs=1e-13, epsrel=1e-12, limit=400)[0])
    f = lambda x: sps.beta.cdf(x, a2, b2)  # noqa: E731
    val = integrate.quad(f, 0, 1, weight="alg", wvar=(a1 - 1, b1 - 1), epsabs=1e-14, limit=400)
    return float(val[0] / np.exp(betaln(a1, b1)))


@pytest.mark.parametrize(
    ("a1", "b1", "a2", "b2"),
    [
        (0.5, 10.5, 1.5, 12.5),
        (0.5, 0.5, 0.7, 0.3),
        (30.5, 970.5, 25.5, 975.5),
        (3.2, 7.9, 2.6, 8.1),
    ],
)
def test_non_integer_parameters_match_numerical_integration(
    a1: float, b1: float, a2: float, b2: float
) -> None:
    assert prob_greater(a1, b1, a2, b2) == pytest.approx(_quad_prob(a1, b1, a2, b2), abs=1e-8)


def test_credible_bounds_hit_their_tail_probabilities() -> None:
    res = compare_beta(
        [40, 3, 900], [1000, 60, 10000], [52, 7, 950], [1000, 55, 10000], prior=BetaPrior(0.5, 0.5)
    )
    for row in range(3):
        ac, bc = res.alpha_control[row], res.beta_control[row]
        av, bv = res.alpha_variant[row], res.beta_variant[row]

        def cdf_abs(d: float, ac: float = ac, bc: float = bc, av: float = av, bv: float = bv):
            f = lambda x: sps.beta.pdf(x, ac, bc) * sps.beta.cdf(x + d, av, bv)  # noqa: E731
            return integrate.quad(f, 0, 1, epsabs=1e-12, limit=400)[0]

        def cdf_rel(r: float, ac: float = ac, bc: float = bc, av: float = av, bv: float = bv):
            f = lambda x: sps.beta.pdf(x, ac, bc) * sps.beta.cdf((1 + r) * x, av, bv)  # noqa: E731
            return integrate.quad(f, 0, 1, epsabs=1e-12, limit=400)[0]

        assert cdf_abs(res.abs_cred_low[row]) == pytest.approx(0.025, abs=1e-7)
        assert cdf_abs(res.abs_cred_high[row]) == pytest.approx(0.975, abs=1e-7)
        assert cdf_rel(res.rel_cred_low[row]) == pytest.approx(0.025, abs=1e-7)
        assert cdf_rel(res.rel_cred_high[row]) == pytest.approx(0.975, abs=1e-7)


@settings(max_examples=40, deadline=None)
@given(
    n1=st.integers(1, 20_000),
    n2=st.integers(1, 20_000),
    f1=st.floats(0, 1),
    f2=st.floats(0, 1),
    a=st.sampled_from([1.0, 0.5, 2.0, 3.7]),
)
def test_loss_difference_is_the_mean_difference(
    n1: int, n2: int, f1: float, f2: float, a: float
) -> None:
    s1, s2 = round(f1 * n1), round(f2 * n2)
    res = compare_beta([s1], [n1], [s2], [n2], prior=BetaPrior(a, a))
    mean_c = res.alpha_control / (res.alpha_control + res.beta_control)
    mean_v = res.alpha_variant / (res.alpha_variant + res.beta_variant)
    # E[(V − C)+] − E[(C − V)+] = E[V − C]
    diff = res.expected_loss_control - res.expected_loss_variant
    np.testing.assert_allclose(diff, mean_v - mean_c, atol=1e-9)
    assert 0.0 <= res.prob_better[0] <= 1.0
    assert res.abs_cred_low[0] <= mean_v[0] - mean_c[0] <= res.abs_cred_high[0]


def test_posterior_and_bad_counts() -> None:
    a, b = posterior([3], [10], BetaPrior(2, 5))
    assert (a[0], b[0]) == (5.0, 12.0)
    with pytest.raises(InputError, match="row 1"):
        posterior([3, 11], [10, 10])
    with pytest.raises(InputError, match="row 0"):
        posterior([-1], [10])
    with pytest.raises(InputError, match="prior"):
        BetaPrior(0.0, 1.0)
    with pytest.raises(InputError, match="level"):
        compare_beta([1], [2], [1], [2], level=1.5)


@pytest.mark.slow
def test_credible_intervals_are_calibrated_under_the_prior() -> None:
    """Rates drawn from the Beta prior: 95% intervals of both differences cover 95%."""
    rng = np.random.default_rng(17)
    runs, n = 10_000, 400
    prior = BetaPrior(3.0, 27.0)
    pc, pv = rng.beta(prior.a, prior.b, runs), rng.beta(prior.a, prior.b, runs)
    sc, sv = rng.binomial(n, pc), rng.binomial(n, pv)
    res = compare_beta(sc, np.full(runs, n), sv, np.full(runs, n), prior=prior)
    abs_cover = (res.abs_cred_low <= pv - pc) & (pv - pc <= res.abs_cred_high)
    rel_cover = (res.rel_cred_low <= pv / pc - 1) & (pv / pc - 1 <= res.rel_cred_high)
    assert abs_cover.mean() == pytest.approx(0.95, abs=0.01)
    assert rel_cover.mean() == pytest.approx(0.95, abs=0.01)
    # and P(better) is calibrated: its average is the share of truly better variants
    assert res.prob_better.mean() == pytest.approx(np.mean(pv > pc), abs=0.01)


@pytest.mark.parametrize(
    ("a1", "b1", "a2", "b2"),
    [
        (128.0, 4e6, 140.0, 4.2e6),  # at the Gauss–Hermite threshold, far in a corner
        (5000.5, 128.5, 200.0, 9.5),  # a wide control next to a narrow variant
        (130.0, 870.0, 9000.0, 61000.0),  # widths 20× apart
        (3e5, 7e5, 2.9e5, 7.1e5),  # large counts, P(better) near 0
    ],
)
def test_near_normal_rule_matches_numerical_integration(
    a1: float, b1: float, a2: float, b2: float
) -> None:
    from shipit.stats.beta_binomial import _prob_and_losses, _quantiles

    args = tuple(np.array([v]) for v in (a1, b1, a2, b2))
    p, loss1, loss2, _ = _prob_and_losses(*args)
    lo, hi = 1e-12, 1 - 1e-12
    s1, s2 = sps.beta(a1, b1), sps.beta(a2, b2)
    box = (max(lo, min(s1.ppf(1e-15), s2.ppf(1e-15))), min(hi, max(s1.isf(1e-15), s2.isf(1e-15))))

    def quad(f: object) -> float:
        pts = [s1.mean(), s2.mean()]
        return integrate.quad(f, *box, points=pts, epsabs=1e-14, epsrel=1e-12, limit=500)[0]  # type: ignore[arg-type]

    m2 = a2 / (a2 + b2)
    assert p[0] == pytest.approx(quad(lambda x: s1.pdf(x) * s2.cdf(x)), abs=1e-9)
    # E[(X2 − X1)+] = ∫ f1(x) (m2·S(x; a2 + 1, b2) − x·S(x; a2, b2)) dx
    ref1 = quad(lambda x: s1.pdf(x) * (m2 * sps.beta.sf(x, a2 + 1, b2) - x * s2.sf(x)))
    assert loss1[0] == pytest.approx(ref1, abs=1e-12, rel=1e-7)
    d_lo, d_hi = _quantiles(*args, 0.95, relative=False)
    for d, q in ((d_lo[0], 0.025), (d_hi[0], 0.975)):
        assert quad(lambda x, d=d: s2.pdf(x) * s1.cdf(x + d)) == pytest.approx(q, abs=1e-8)
    r_lo, r_hi = _quantiles(*args, 0.95, relative=True)
    for r, q in ((r_lo[0], 0.025), (r_hi[0], 0.975)):
        assert quad(lambda x, r=r: s2.pdf(x) * s1.cdf((1 + r) * x)) == pytest.approx(q, abs=1e-8)
    assert loss2[0] >= 0.0
