"""Always-valid inference: p-values and confidence sequences that survive continuous peeking.

Both methods work on an effect estimate θ̂ with standard error s (so V = s²) per row, from
any ``GroupStats`` (raw or CUPED-adjusted; absolute or relative effect), vectorized.

**mSPRT** (Johari, Koomen, Pekelis & Walsh, "Always valid inference", 2017/2022). With
θ̂ ~ N(θ, V) and a normal mixing distribution N(θ0, τ²) over the alternative, the mixture
likelihood ratio is

    Λ = √(V / (V + τ²)) · exp( τ² (θ̂ − θ0)² / (2 V (V + τ²)) ),

a nonnegative martingale under θ = θ0, so by Ville's inequality P(sup Λ ≥ 1/α) ≤ α. The
always-valid p-value is min(1, 1/Λ) (its running minimum over looks, see :func:`running`),
and inverting the test gives the confidence sequence

    θ̂ ± √( 2 V (V + τ²)/τ² · log( √((V + τ²)/V) / α ) ).

τ² is in the units of the effect. Given a planned horizon of N units (per variant) it is
set to τ² = V_N · (2 log(1/α) + log(1 + 2 log(1/α))), where V_N = s²·n/N is the variance
the estimate will have at the horizon: this τ² makes the sequence (nearly) tightest at N
(Howard, Ramdas, McAuliffe & Sekhon 2021, eq. 3.14 for the normal mixture).

**Asymptotic confidence sequence** (Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas,
"Time-uniform central limit theory", 2021; as in GrowthBook and Eppo). With σ̂² = s²·n the
per-unit variance and ρ² = (2 log(1/α) + log(1 + 2 log(1/α)))/N* tuned to an expected
sample size N*, the half width at n units is

    σ̂ · √( 2 (nρ² + 1)/(n² ρ²) · log( √(nρ² + 1) / α ) ).

The difference: the formula is the mSPRT sequence with τ² = σ̂²ρ², but the mSPRT fixes
τ² in effect units and is exact for Gaussian estimates with known variance, whereas the
asymptotic sequence fixes ρ in standardized units (its τ² follows the running variance
estimate) and is valid for any distribution with finite variance as n grows — a
time-uniform analogue of the CLT, not an exact finite-sample guarantee.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray
from shipit.errors import InputError

__all__ = [
    "AlwaysValid",
    "asymptotic_cs",
    "horizon_tau2",
    "mixture_ratio",
    "msprt",
    "running",
]


@dataclass(frozen=True)
class AlwaysValid:
    """Always-valid p-values and confidence-sequence bounds, same shape as the inputs."""

    estimate: FloatArray
    p_value: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray


def _tuning(alpha: float) -> float:
    """2 log(1/α) + log(1 + 2 log(1/α)): the normal-mixture tuning constant."""
    a = -2.0 * np.log(alpha)
    return float(a + np.log1p(a))


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be between 0 and 1, got {alpha}")


def _always_valid(
    theta: FloatArray, p: FloatArray, half: FloatArray, bad: npt.NDArray[np.bool_]
) -> AlwaysValid:
    """The result with NaN (not a number passed off) wherever a row cannot be tested."""
    p = np.where(bad, np.nan, p)
    half = np.where(bad, np.nan, half)
    return AlwaysValid(theta + 0.0 * half, p, theta - half, theta + half)


def horizon_tau2(
    se: npt.ArrayLike, n: npt.ArrayLike, horizon: float | npt.ArrayLike, *, alpha: float = 0.05
) -> FloatArray:
    """Mixing variance τ² that makes the confidence sequence tightest near the horizon.

    τ² = V_N·(2 log(1/α) + log(1 + 2 log(1/α))) with V_N = se²·n/horizon, the variance
    of the estimate once ``horizon`` units (in the same unit as ``n``) are in.
    """
    _check_alpha(alpha)
    h = np.asarray(horizon, dtype=np.float64)
    if np.any(~(h > 0)):
        raise InputError(f"horizon must be > 0, got {h.tolist()}")
    s = np.asarray(se, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out: FloatArray = s**2 * np.asarray(n, dtype=np.float64) / h * _tuning(alpha)
    return out


def mixture_ratio(
    estimate: npt.ArrayLike, se: npt.ArrayLike, tau2: npt.ArrayLike, *, null: float = 0.0
) -> FloatArray:
    """The normal-mixture likelihood ratio Λ of the data against θ = null, per element."""
    theta = np.asarray(estimate, dtype=np.float64)
    v = np.asarray(se, dtype=np.float64) ** 2
    t2 = np.asarray(tau2, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        log_ratio = 0.5 * np.log(v / (v + t2)) + t2 * (theta - null) ** 2 / (2.0 * v * (v + t2))
        out: FloatArray = np.exp(log_ratio)
    return out


def msprt(
    estimate: npt.ArrayLike,
    se: npt.ArrayLike,
    *,
    tau2: npt.ArrayLike,
    alpha: float = 0.05,
    null: float = 0.0,
) -> AlwaysValid:
    """Always-valid p-value and confidence sequence of the mSPRT at the current look.

    >>> r = msprt(0.0, 1.0, tau2=1.0)
    >>> float(r.p_value), round(float(r.ci_high), 4)
    (1.0, 3.6564)
    """
    _check_alpha(alpha)
    theta = np.asarray(estimate, dtype=np.float64)
    v = np.asarray(se, dtype=np.float64) ** 2
    t2 = np.asarray(tau2, dtype=np.float64)
    if np.any(t2 <= 0):
        raise InputError("tau2 (the mixing variance) must be > 0")
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        p = np.minimum(1.0, 1.0 / mixture_ratio(theta, np.sqrt(v), t2, null=null))
        half = np.sqrt(2.0 * v * (v + t2) / t2 * (0.5 * np.log((v + t2) / v) - np.log(alpha)))
    return _always_valid(theta, p, half, ~(v > 0) | ~np.isfinite(theta))


def asymptotic_cs(
    estimate: npt.ArrayLike,
    se: npt.ArrayLike,
    n: npt.ArrayLike,
    *,
    expected_n: float | npt.ArrayLike,
    alpha: float = 0.05,
    null: float = 0.0,
) -> AlwaysValid:
    """The asymptotic confidence sequence (GrowthBook/Eppo), tuned by an expected size N*.

    ``n`` and ``expected_n`` count units in the same way (e.g. both total over variants);
    σ̂² = se²·n. The p-value is the smallest α whose sequence excludes ``null``.
    """
    _check_alpha(alpha)
    nn = np.asarray(n, dtype=np.float64)
    big_n = np.asarray(expected_n, dtype=np.float64)
    if np.any(~(big_n > 0)):
        raise InputError(f"expected_n must be > 0, got {big_n.tolist()}")
    s = np.asarray(se, dtype=np.float64)
    theta = np.asarray(estimate, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        rho2 = _tuning(alpha) / big_n
        a = nn * rho2
        half = s * np.sqrt(
            nn * 2.0 * (a + 1.0) / (nn**2 * rho2) * (0.5 * np.log1p(a) - np.log(alpha))
        )
        # Solving the bound for α at fixed ρ: α = √(a+1)·exp(−z²·a/(2(a+1))), z = |θ̂−θ0|/s.
        z2 = ((theta - null) / s) ** 2
        p = np.minimum(1.0, np.sqrt(a + 1.0) * np.exp(-0.5 * z2 * a / (a + 1.0)))
    return _always_valid(theta, p, half, ~(s > 0) | ~(nn > 0) | ~np.isfinite(theta))


def running(result: AlwaysValid) -> AlwaysValid:
    """Running minimum of the p-value and intersection of the intervals over looks (axis 0).

    Both stay valid under optional stopping; NaN looks (too little data) are skipped.
    """
    p = np.fmin.accumulate(np.where(np.isnan(result.p_value), np.inf, result.p_value), axis=0)
    lo = np.fmax.accumulate(np.where(np.isnan(result.ci_low), -np.inf, result.ci_low), axis=0)
    hi = np.fmin.accumulate(np.where(np.isnan(result.ci_high), np.inf, result.ci_high), axis=0)
    p = np.where(np.isinf(p), np.nan, p)
    return AlwaysValid(
        result.estimate,
        p,
        np.where(np.isinf(lo), np.nan, lo),
        np.where(np.isinf(hi), np.nan, hi),
    )
