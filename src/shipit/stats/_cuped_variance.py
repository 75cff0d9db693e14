"""Sampling variances of CUPED estimates that count the fitted slopes, from Moments only.

Model: per unit of group g, e = a·z − θ·B·z (the metric's linearization minus the
covariates') has mean α_g and variance σ_g², the same θ in both groups. θ̂ solves
Σ_g λ_g·C_g θ = Σ_g λ_g·B_gᵀK_g a_g with C_g = B_gᵀK_gB_g (K_g the centred cross products;
λ_g = 1 for OLS, 1/(n_g(n_g − ddof)) for the variance-minimising θ), so with P = Σ_g λ_g C_g

    θ̂ − θ = P⁻¹ Σ_g λ_g Σ_{i∈g} (x_i − x̄_g) e_i,   Var(θ̂) = P⁻¹ (Σ_g λ_g² σ_g² C_g) P⁻¹.

The residual sum of squares of group g then has (no normality needed)

    E[SS_g] = σ_g² (n_g − ddof − 2 λ_g tr(P⁻¹C_g)) + Σ_h λ_h² σ_h² tr(C_g P⁻¹ C_h P⁻¹),

and ν_g, its value at σ_h = σ_g, are the degrees of freedom of σ̂_g² = SS_g / ν_g (exactly
unbiased when the groups share σ; for OLS ν_c + ν_t = N − 2 − k, the classical count).

Absolute effect Δ̂ = est_t − est_c − θ̂·(h_t − h_c): Var = Σ_g σ_g²/n_g + Δhᵀ Var(θ̂) Δh,
whose second term is split into each group's share. Relative effect R̂ = μ̂_t/μ̂_c with
μ̂_g = est_g − θ̂·(h_g − h̄) and h̄ the pooled covariate estimate: both adjusted means move
with h̄, so they are correlated. To first order, with π_g = n_g/N and B_p the pooled
linearization, μ_c·(R̂ − R) = c_t·δz̄_t + c_c·δz̄_c − (θ̂ − θ)·v where

    c_t = e_t + (1 − R) π_t B_p θ,   c_c = −R e_c + (1 − R) π_c B_p θ,
    v = (h_t − h̄) − R (h_c − h̄)

(for mean covariates c_t = a_t − wBθ and c_c = −(R a_c − wBθ) with w = (n_c + R n_t)/N).
Each group's c_g·z is estimated with the residual part's variance replaced by σ̂_g².
Satterthwaite degrees of freedom come from the components and ν_g.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shipit._types import FloatArray

__all__ = ["CupedVariance", "cuped_variance"]


@dataclass(frozen=True)
class CupedVariance:
    """Per group (control, variant): residual variance σ̂², its dof ν, effect variances."""

    sigma2: tuple[FloatArray, FloatArray]
    nu: tuple[FloatArray, FloatArray]
    abs_var: tuple[FloatArray, FloatArray]  # each group's share of Var(Δ̂)
    abs_df: FloatArray
    rel_var: FloatArray
    rel_df: FloatArray


def _tr(x: FloatArray, y: FloatArray) -> FloatArray:
    """Batched tr(x·y)."""
    out: FloatArray = np.einsum("gij,gji->g", x, y)
    return out


def _form(v: FloatArray, mat: FloatArray) -> FloatArray:
    """Batched vᵀ·mat·v."""
    out: FloatArray = np.einsum("gi,gij,gj->g", v, mat, v)
    return out


def _satterthwaite(
    parts: tuple[FloatArray, FloatArray], nu: tuple[FloatArray, FloatArray]
) -> FloatArray:
    total = parts[0] + parts[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        df: FloatArray = total**2 / (parts[0] ** 2 / nu[0] + parts[1] ** 2 / nu[1])
    return df


def cuped_variance(
    *,
    n: tuple[FloatArray, FloatArray],
    centred: tuple[FloatArray, FloatArray],
    a: tuple[FloatArray, FloatArray],
    b: tuple[FloatArray, FloatArray],
    h: tuple[FloatArray, FloatArray],
    means: tuple[FloatArray, FloatArray],
    lam: tuple[FloatArray, FloatArray],
    pooled_b: FloatArray,
    pooled_h: FloatArray,
    pinv: FloatArray,
    theta: FloatArray,
    ddof: float,
) -> CupedVariance:
    """Variances of the adjusted absolute and relative effects (see the module docstring).

    Pairs are (control, variant); ``pinv`` is P⁻¹ on the covariates used (0 elsewhere).
    """
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        cov = [np.einsum("gpi,gpq,gqj->gij", b[g], centred[g], b[g]) for g in (0, 1)]
        cov = [np.nan_to_num(c, nan=0.0, posinf=0.0, neginf=0.0) for c in cov]
        resid = [np.nan_to_num(a[g] - np.einsum("gpm,gm->gp", b[g], theta)) for g in (0, 1)]
        ss = [_form(resid[g], centred[g]) for g in (0, 1)]
        q = lam[0][:, None, None] ** 2 * cov[0] + lam[1][:, None, None] ** 2 * cov[1]
        pqp = pinv @ q @ pinv
        nu = tuple(
            n[g] - ddof - 2.0 * lam[g] * _tr(pinv, cov[g]) + _tr(cov[g], pqp) for g in (0, 1)
        )
        sigma2 = tuple(np.where(nu[g] > 0, np.maximum(ss[g] / nu[g], 0.0), np.nan) for g in (0, 1))

        # absolute effect: each group's residual noise plus its share of Δhᵀ Var(θ̂) Δh
        u = np.einsum("gij,gj->gi", pinv, np.nan_to_num(h[1] - h[0]))
        abs_var = tuple(
            sigma2[g] / n[g] + lam[g] ** 2 * sigma2[g] * _form(u, cov[g]) for g in (0, 1)
        )

        # relative effect: the adjusted means share h̄, so use the joint linearization
        ratio = means[1] / means[0]
        pooled_shift = np.einsum("gpm,gm->gp", np.nan_to_num(pooled_b), theta)
        total = n[0] + n[1]
        scale = (-ratio, np.ones_like(ratio))
        rel_parts = []
        for g in (0, 1):
            d = ((1.0 - ratio) * n[g] / total)[:, None] * pooled_shift
            c = scale[g][:, None] * resid[g] + d
            naive = ss[g] / (n[g] - ddof)
            main = (_form(c, centred[g]) / (n[g] - ddof) + scale[g] ** 2 * (sigma2[g] - naive)) / n[
                g
            ]
            rel_parts.append(np.maximum(main, 0.0))
        v = np.nan_to_num((h[1] - pooled_h) - ratio[:, None] * (h[0] - pooled_h))
        ur = np.einsum("gij,gj->gi", pinv, v)
        rel = tuple(
            (rel_parts[g] + lam[g] ** 2 * sigma2[g] * _form(ur, cov[g])) / means[0] ** 2
            for g in (0, 1)
        )
    return CupedVariance(
        sigma2=(sigma2[0], sigma2[1]),
        nu=(nu[0], nu[1]),
        abs_var=(abs_var[0], abs_var[1]),
        abs_df=_satterthwaite((abs_var[0], abs_var[1]), (nu[0], nu[1])),
        rel_var=rel[0] + rel[1],
        rel_df=_satterthwaite((rel[0], rel[1]), (nu[0], nu[1])),
    )
