"""Beta-Binomial model for proportions: exact P(variant > control), expected loss, intervals.

With a Beta(a, b) prior the posterior of a conversion rate after s successes in n units is
Beta(a + s, b + n − s). P(X > Y) of two Beta variables is Evan Miller's closed-form sum
when one parameter is a small integer (by symmetry any of the four can be summed over);
otherwise it is a Gauss–Legendre (or, for parameters below 2, tanh–sinh) integral over the
narrower posterior, which is accurate to about 1e-10 for any counts. Expected losses
come from the same integral: E[X·1{X<t}] = mean·I_t(a + 1, b). Everything is vectorized
over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special as sp
from scipy import stats as sps

from shipit._types import BoolArray, FloatArray, IntArray
from shipit.errors import InputError
from shipit.stats import _beta_quadrature as bq

__all__ = [
    "BetaComparison",
    "BetaPrior",
    "compare_beta",
    "posterior",
    "prob_greater",
]

#: Largest number of terms of Evan Miller's sum before integrating instead.
EXACT_MAX_TERMS = 64
#: Rows × terms evaluated at once by the exact sum (bounds memory).
_CHUNK = 2_000_000


@dataclass(frozen=True)
class BetaPrior:
    """A Beta(a, b) prior on a conversion rate; Beta(1, 1) is uniform."""

    a: float = 1.0
    b: float = 1.0

    def __post_init__(self) -> None:
        if not (self.a > 0 and self.b > 0 and np.isfinite(self.a) and np.isfinite(self.b)):
            raise InputError(f"Beta prior needs a > 0 and b > 0, got a={self.a}, b={self.b}")


@dataclass(frozen=True)
class BetaComparison:
    """Posterior comparison of variant against control, row by row.

    For a higher-is-better rate ``prob_better`` is P(p_variant > p_control) and
    ``expected_loss_variant`` E[max(p_control − p_variant, 0)], what shipping the variant
    costs if it is worse; ``expected_loss_control`` the converse. For a lower-is-better rate
    (an error rate) both turn round: P(p_variant < p_control) and E[max(p_variant −
    p_control, 0)]. Intervals are equal-tailed credible intervals of p_variant − p_control
    and p_variant / p_control − 1 whichever way is better.
    """

    alpha_control: FloatArray
    beta_control: FloatArray
    alpha_variant: FloatArray
    beta_variant: FloatArray
    prob_better: FloatArray
    expected_loss_variant: FloatArray
    expected_loss_control: FloatArray
    abs_cred_low: FloatArray
    abs_cred_high: FloatArray
    rel_cred_low: FloatArray
    rel_cred_high: FloatArray
    exact: BoolArray


def posterior(
    successes: npt.ArrayLike, n: npt.ArrayLike, prior: BetaPrior = BetaPrior()
) -> tuple[FloatArray, FloatArray]:
    """Posterior Beta parameters (α, β) per row; rejects counts that are not counts."""
    s = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    bad = ~((s >= 0) & (m >= s))
    if np.any(bad):
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"row {row}: successes {s.flat[row]} must lie between 0 and n = {m.flat[row]}"
        )
    return prior.a + s, prior.b + m - s


def _is_small_int(x: FloatArray, limit: int = EXACT_MAX_TERMS) -> BoolArray:
    out: BoolArray = (x == np.round(x)) & (x >= 1) & (x <= limit)
    return out


def _miller(aB: FloatArray, bB: FloatArray, aA: FloatArray, bA: FloatArray) -> FloatArray:
    """P(pB > pA) by Evan Miller's sum over i < aB (aB a positive integer), vectorized."""
    out = np.zeros(aB.shape)
    if aB.size == 0:
        return out
    terms = int(aB.max())
    step = max(1, _CHUNK // terms)
    i = np.arange(terms, dtype=np.float64)
    for start in range(0, aB.size, step):
        sl = slice(start, start + step)
        a1, b1, a2, b2 = (v[sl, None] for v in (aB, bB, aA, bA))
        log_terms = (
            sp.betaln(a2 + i, b2 + b1) - np.log(b1 + i) - sp.betaln(1.0 + i, b1) - sp.betaln(a2, b2)
        )
        log_terms = np.where(i < a1, log_terms, -np.inf)
        out[sl] = np.exp(sp.logsumexp(log_terms, axis=1))
    return np.clip(out, 0.0, 1.0)


def _prob_exact(a1: FloatArray, b1: FloatArray, a2: FloatArray, b2: FloatArray) -> FloatArray:
    """P(X1 > X2) summing over the smallest integer parameter of the four."""
    candidates = np.stack([a1, a2, b2, b1])
    cost = np.where(_is_small_int(candidates), candidates, np.inf)
    which = np.argmin(cost, axis=0)
    out = np.empty(a1.shape)
    # X1 > X2 directly (sum over a1); 1 − P(X2 > X1) (over a2);
    # P(1−X2 > 1−X1) (over b2); 1 − P(1−X1 > 1−X2) (over b1).
    cases = (
        (0, (a1, b1, a2, b2), False),
        (1, (a2, b2, a1, b1), True),
        (2, (b2, a2, b1, a1), False),
        (3, (b1, a1, b2, a2), True),
    )
    for code, args, flip in cases:
        rows = which == code
        if np.any(rows):
            p = _miller(*(v[rows] for v in args))
            out[rows] = 1.0 - p if flip else p
    return out


def _integrals(
    a1: FloatArray, b1: FloatArray, a2: FloatArray, b2: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """P(X1 > X2), E[max(X2 − X1, 0)] and E[max(X1 − X2, 0)] by one quadrature."""
    g = bq.grid(a1, b1, a2, b2)
    f = g.u_is_first[:, None]
    aw, bw = np.where(f, a2[:, None], a1[:, None]), np.where(f, b2[:, None], b1[:, None])
    mean_w = aw / (aw + bw)
    x = g.x
    cdf_w, sf_w = bq.cdf_sf(aw, bw, x, g.y)
    # I_x(a + 1, b) = I_x(a, b) − x^a (1 − x)^b / (a B(a, b))
    step = np.exp(sp.xlogy(aw, x) + sp.xlogy(bw, g.y) - sp.betaln(aw, bw)) / aw
    cdf_w1, sf_w1 = cdf_w - step, sf_w + step
    # U below W's value: with U = X1, P(X1 > X2) = E[F_W(U)], and so on.
    below = np.sum(g.w * cdf_w, axis=1)  # P(W < U)
    # E[(U − W)+] = E[U F_W(U) − mean_W F_W'(U)];  E[(W − U)+] = E[mean_W S_W'(U) − U S_W(U)]
    u_minus_w = np.sum(g.w * (x * cdf_w - mean_w * cdf_w1), axis=1)
    w_minus_u = np.sum(g.w * (mean_w * sf_w1 - x * sf_w), axis=1)
    first = g.u_is_first
    above = np.sum(g.w * sf_w, axis=1)  # P(W > U), accurate when it is small
    p = np.where(first, below, above)
    loss_pick_1 = np.where(first, w_minus_u, u_minus_w)  # E[(X2 − X1)+]
    loss_pick_2 = np.where(first, u_minus_w, w_minus_u)  # E[(X1 − X2)+]
    return np.clip(p, 0.0, 1.0), np.maximum(loss_pick_1, 0.0), np.maximum(loss_pick_2, 0.0)


def prob_greater(
    a1: npt.ArrayLike, b1: npt.ArrayLike, a2: npt.ArrayLike, b2: npt.ArrayLike
) -> FloatArray:
    """P(X1 > X2) for X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), row by row."""
    arrs = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a1, b1, a2, b2)))
    p = _prob_and_losses(*(v.reshape(-1) for v in arrs))[0]
    out: FloatArray = p.reshape(arrs[0].shape)
    return out


def _prob_and_losses(
    a1: FloatArray, b1: FloatArray, a2: FloatArray, b2: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """P(X1 > X2), E[(X2 − X1)+], E[(X1 − X2)+] and whether the exact sum was used."""
    for v in (a1, b1, a2, b2):
        if np.any(~(v > 0)) or np.any(~np.isfinite(v)):
            raise InputError("Beta parameters must be finite and > 0")
    # E[(X2 − X1)+] = m2·P − m1·P' cancels to the digits lost in m ≈ 1 when rates are near 1
    # (a 99.99% success rate). Reflected, Y = 1 − X: X1 > X2 ⟺ Y2 > Y1 and (X2 − X1)+ =
    # (Y1 − Y2)+, so the problem (b2, a2, b1, a1) has the same three answers with means near
    # 0, where the two terms are small and the difference keeps its relative precision.
    flip = a1 / (a1 + b1) + a2 / (a2 + b2) > 1.0
    a1, b1, a2, b2 = (
        np.where(flip, b2, a1),
        np.where(flip, a2, b1),
        np.where(flip, b1, a2),
        np.where(flip, a1, b2),
    )
    # the losses shift a1 or a2 by one, so the shifted problems must stay exact too
    below = EXACT_MAX_TERMS - 1
    exact = _is_small_int(b1) | _is_small_int(b2)
    exact |= _is_small_int(a1, below) | _is_small_int(a2, below)
    p = np.empty(a1.shape)
    loss1 = np.empty(a1.shape)
    loss2 = np.empty(a1.shape)
    if np.any(exact):
        e = exact
        x1, y1, x2, y2 = a1[e], b1[e], a2[e], b2[e]
        m1, m2 = x1 / (x1 + y1), x2 / (x2 + y2)
        p[e] = _prob_exact(x1, y1, x2, y2)
        # E[(X2 − X1)+] = m2 P(X2' > X1) − m1 P(X2 > X1'), primes size-biased (a + 1)
        loss1[e] = m2 * _prob_exact(x2 + 1, y2, x1, y1) - m1 * _prob_exact(x2, y2, x1 + 1, y1)
        loss2[e] = m1 * _prob_exact(x1 + 1, y1, x2, y2) - m2 * _prob_exact(x1, y1, x2 + 1, y2)
    if np.any(~exact):
        q = ~exact
        for part in bq.by_rule(q, a1, b1, a2, b2):
            p[part], loss1[part], loss2[part] = _integrals(a1[part], b1[part], a2[part], b2[part])
    return p, np.maximum(loss1, 0.0), np.maximum(loss2, 0.0), exact


def _cornish_fisher(
    k1: FloatArray, k2: FloatArray, k3: FloatArray, k4: FloatArray, z: float
) -> FloatArray:
    """Quantile at standard normal z from the first four cumulants (Cornish–Fisher)."""
    g1, g2 = k3 / k2**1.5, k4 / k2**2
    w = z + (z * z - 1.0) * g1 / 6.0 + (z**3 - 3.0 * z) * g2 / 24.0
    w -= (2.0 * z**3 - 5.0 * z) * g1 * g1 / 36.0
    out: FloatArray = k1 + np.sqrt(k2) * w
    return out


def _start(
    a1: FloatArray, b1: FloatArray, a2: FloatArray, b2: FloatArray, z: float, relative: bool
) -> FloatArray:
    """Newton start from the exact cumulants of X1 − X2, or of log X1 − log X2 (relative).

    Close enough for near-normal posteriors that one Newton step from it is final.
    """
    s1, s2 = a1 + b1, a2 + b2
    if relative:
        # cumulants of log Beta(a, b): κ_r = ψ^(r−1)(a) − ψ^(r−1)(a + b)
        kl: list[FloatArray] = [
            sp.polygamma(r, a1)
            - sp.polygamma(r, s1)
            + (-1) ** (r + 1) * (sp.polygamma(r, a2) - sp.polygamma(r, s2))
            for r in range(4)
        ]
        out: FloatArray = np.expm1(_cornish_fisher(kl[0], kl[1], kl[2], kl[3], z))
        return out
    k: list[tuple[FloatArray, FloatArray, FloatArray, FloatArray]] = []
    for a, b, s in ((a1, b1, s1), (a2, b2, s2)):
        var = a * b / (s * s * (s + 1.0))
        k3 = 2.0 * (b - a) * np.sqrt(s + 1.0) / ((s + 2.0) * np.sqrt(a * b)) * var**1.5
        ex = 6.0 * ((a - b) ** 2 * (s + 1.0) - a * b * (s + 2.0)) / (a * b * (s + 2.0) * (s + 3.0))
        k.append((a / s, var, k3, ex * var * var))
    (m1, v1, t1, f1), (m2, v2, t2, f2) = k
    return _cornish_fisher(m1 - m2, v1 + v2, t1 - t2, f1 + f2, z)


def _quantiles(
    a1: FloatArray,
    b1: FloatArray,
    a2: FloatArray,
    b2: FloatArray,
    level: float,
    relative: bool,
) -> tuple[FloatArray, FloatArray]:
    """Equal-tailed interval of X1 − X2 (or X1/X2 − 1) by Newton on the quadrature CDF.

    Starts from the normal approximation; rows leave the iteration once their Newton step
    is below 1e-7 of a standard deviation (quadratic convergence makes the next one
    negligible), so large-count rows cost about two quadratures per bound.
    """
    g = bq.grid(a1, b1, a2, b2)
    first = g.u_is_first
    aw, bw = np.where(first, a2, a1), np.where(first, b2, b1)
    m1, m2 = a1 / (a1 + b1), a2 / (a2 + b2)
    v1, v2 = bq.std(a1, b1) ** 2, bq.std(a2, b2) ** 2
    # the delta-method sd: the yardstick of the stopping rule
    scale = np.sqrt(v1 / m2**2 + m1**2 * v2 / m2**4) if relative else np.sqrt(v1 + v2)
    floor, ceiling = -1.0, (np.inf if relative else 1.0)
    near_normal = np.minimum(np.minimum(a1, b1), np.minimum(a2, b2)) >= 100.0

    def cdf_pdf(rows: IntArray, d: FloatArray) -> tuple[FloatArray, FloatArray]:
        x, w, f = g.x[rows], g.w[rows], first[rows][:, None]
        a, b, dd = aw[rows][:, None], bw[rows][:, None], d[:, None]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if relative:
                # U = X1: P(X2 ≥ U/(1+d)); U = X2: P(X1 ≤ (1+d)·U)
                arg = np.where(f, x / (1.0 + dd), (1.0 + dd) * x)
                jac = np.where(f, x / (1.0 + dd) ** 2, x)
            else:
                # U = X1: P(X2 ≥ U − d); U = X2: P(X1 ≤ U + d)
                arg = np.where(f, x - dd, x + dd)
                jac = np.ones_like(x)
            inside = (arg > 0.0) & (arg < 1.0)
            cdf_w = sp.betainc(a, b, np.clip(arg, 0.0, 1.0))
            pdf_w = np.where(inside, np.exp(bq.logpdf(np.clip(arg, 1e-300, 1.0), a, b)), 0.0)
        cdf = np.where(f[:, 0], np.sum(w * (1.0 - cdf_w), 1), np.sum(w * cdf_w, 1))
        return cdf, np.sum(w * pdf_w * jac, axis=1)

    out = []
    for q in ((1.0 - level) / 2.0, (1.0 + level) / 2.0):
        zq = float(sps.norm.ppf(q))
        start = _start(a1, b1, a2, b2, zq, relative)
        d = np.clip(start, floor + 1e-12, ceiling - 1e-12)
        lo = np.full(d.shape, floor)
        hi = np.full(d.shape, ceiling)
        rows = np.arange(d.size)
        for _ in range(60):
            if rows.size == 0:
                break
            cur = d[rows]
            cdf, pdf = cdf_pdf(rows, cur)
            err = cdf - q
            lo[rows] = np.where(err < 0, cur, lo[rows])
            hi[rows] = np.where(err > 0, cur, hi[rows])
            # Newton on Φ⁻¹(F(d)) = z_q, nearly linear in d for near-normal posteriors
            z = sp.ndtri(np.clip(cdf, 1e-300, 1.0 - 1e-16))
            with np.errstate(divide="ignore", invalid="ignore"):
                new = cur - np.where(pdf > 0, (z - zq) * sps.norm.pdf(z) / pdf, np.inf)
            lo_r, hi_r = lo[rows], hi[rows]
            bisect = np.where(np.isfinite(hi_r), 0.5 * (lo_r + hi_r), 2.0 * np.abs(cur) + 1.0)
            # far out in a tail the Newton step crawls: halve the bracket instead
            bisecting = ~((new >= lo_r) & (new <= hi_r)) | (np.abs(err) > 0.2)
            new = np.where(bisecting, bisect, new)
            d[rows] = new
            step = np.abs(new - cur)
            # near-normal posteriors converge quadratically from the first Newton step on:
            # a step below 1e-3 sd leaves an error of order 1e-8 sd, so no check is needed
            newton = ~bisecting
            moving = (step > 1e-7 * scale[rows]) & (np.abs(err) > 1e-13)
            moving &= ~(near_normal[rows] & newton & (step < 1e-3 * scale[rows]))
            rows = rows[moving]
        out.append(d)
    return out[0], out[1]


def compare_beta(
    control_successes: npt.ArrayLike,
    control_n: npt.ArrayLike,
    variant_successes: npt.ArrayLike,
    variant_n: npt.ArrayLike,
    *,
    prior: BetaPrior = BetaPrior(),
    level: float = 0.95,
    higher_is_better: bool = True,
) -> BetaComparison:
    """Posterior P(variant better), expected losses and credible intervals per row.

    ``higher_is_better=False`` (an error rate) asks for P(p_variant < p_control), computed
    directly rather than as 1 − P(>) so that a probability near 0 keeps its digits.
    """
    if not 0.0 < level < 1.0:
        raise InputError(f"credible level must be between 0 and 1, got {level}")
    ac, bc = posterior(control_successes, control_n, prior)
    av, bv = posterior(variant_successes, variant_n, prior)
    ac, bc, av, bv = (v.reshape(-1) for v in np.broadcast_arrays(ac, bc, av, bv))
    if higher_is_better:
        p, loss_variant, loss_control, exact = _prob_and_losses(av, bv, ac, bc)
    else:
        # P(pc > pv), E[(pv − pc)+] (shipping a variant that errs more), E[(pc − pv)+]
        p, loss_variant, loss_control, exact = _prob_and_losses(ac, bc, av, bv)
    abs_lo, abs_hi, rel_lo, rel_hi = (np.empty(av.shape) for _ in range(4))
    for part in bq.by_rule(np.ones(av.shape, dtype=bool), av, bv, ac, bc):
        args = (av[part], bv[part], ac[part], bc[part], level)
        abs_lo[part], abs_hi[part] = _quantiles(*args, relative=False)
        rel_lo[part], rel_hi[part] = _quantiles(*args, relative=True)
    return BetaComparison(
        alpha_control=ac,
        beta_control=bc,
        alpha_variant=av,
        beta_variant=bv,
        prob_better=p,
        expected_loss_variant=loss_variant,
        expected_loss_control=loss_control,
        abs_cred_low=abs_lo,
        abs_cred_high=abs_hi,
        rel_cred_low=rel_lo,
        rel_cred_high=rel_hi,
        exact=exact,
    )
