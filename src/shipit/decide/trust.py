"""Trust checks run before any effect is believed.

SRM (overall, then by segment and by day to locate it), pre-period balance as A/A tests,
exposure integrity, novelty/primacy from the daily effects, and Simpson's paradox. Each
returns a ``TrustCheck``; only a failed one halts the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray
from shipit.errors import InputError
from shipit.result import format as fmt
from shipit.result.model import CheckStatus, TrustCheck
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments
from shipit.stats.multiple import adjust_p_values
from shipit.stats.normal import contingency_p_value, normal_quantile, two_sided_p
from shipit.stats.srm import srm_test

__all__ = [
    "balance_check",
    "effect_increments",
    "exposure_checks",
    "novelty_check",
    "simpson_check",
    "srm_check",
    "srm_chi2",
    "srm_locate",
]


def srm_chi2(counts: npt.ArrayLike, weights: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Pearson χ² of observed unit counts (rows × variants) against the planned weights."""
    obs = np.atleast_2d(np.asarray(counts, dtype=np.float64))
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (obs.shape[1],) or np.any(w <= 0):
        raise InputError(f"SRM needs one positive weight per variant, got {w.tolist()}")
    if np.any(obs < 0):
        raise InputError("SRM counts must be ≥ 0")
    result = srm_test(obs, w)
    empty = obs.sum(axis=1) == 0
    stat = np.where(empty, 0.0, result.chi2)
    p = np.where(empty, np.nan, result.p_value)
    return stat, p


def srm_check(
    counts: Mapping[str, float], weights: Mapping[str, float], *, threshold: float = 0.001
) -> TrustCheck:
    """Sample-ratio mismatch overall: fails when p < threshold (the observed split is off)."""
    names = list(weights)
    missing = [v for v in names if v not in counts]
    if missing:
        raise InputError(f"SRM: no unit count for variant(s) {missing}")
    stat, p = srm_chi2([[counts[v] for v in names]], [weights[v] for v in names])
    total = sum(counts[v] for v in names)
    wsum = sum(weights.values())
    shares = (
        ", ".join(f"{v} {counts[v] / total:.2%} (planned {weights[v] / wsum:.2%})" for v in names)
        if total
        else "no units"
    )
    bad = bool(p[0] < threshold)
    # through the one formatter: an underflowed p reads "< 1e-300", never "p = 0"
    p_txt = fmt.p_equals(float(p[0]), alpha=threshold) if np.isfinite(p[0]) else "p = —"
    return TrustCheck(
        name="srm",
        status="fail" if bad else "pass",
        message=(
            f"sample ratio mismatch: {shares}; χ² = {stat[0]:.2f}, {p_txt} < {threshold}"
            if bad
            else f"split as planned: {shares}; χ² = {stat[0]:.2f}, {p_txt}"
        ),
        statistic=float(stat[0]),
        p_value=float(p[0]),
        details={v: float(counts[v]) for v in names},
    )


def srm_locate(
    name: str,
    labels: Sequence[str],
    counts: npt.ArrayLike,
    weights: npt.ArrayLike,
    *,
    threshold: float = 0.001,
) -> TrustCheck:
    """SRM per segment or per day (rows of ``counts``): names the rows where it is found."""
    stat, p = srm_chi2(counts, weights)
    if len(labels) != len(stat):
        raise InputError(f"{name}: {len(labels)} labels for {len(stat)} rows of counts")
    bad = [str(lab) for lab, pv in zip(labels, p, strict=True) if pv < threshold]
    details: dict[str, float | str | None] = {
        str(lab): float(pv) for lab, pv in zip(labels, p, strict=True)
    }
    msg = (
        f"sample ratio mismatch located in {', '.join(bad)} (p < {threshold})"
        if bad
        else f"no sample ratio mismatch in any of its {len(labels)} rows"
    )
    i = int(np.nanargmin(p)) if np.isfinite(p).any() else 0
    return TrustCheck(
        name=name,
        status="warn" if bad else "pass",
        message=msg,
        statistic=float(stat[i]) if len(stat) else None,
        p_value=float(p[i]) if len(p) else None,
        details=details,
    )


def balance_check(
    control: Moments,
    variant: Moments,
    covariates: Sequence[str],
    *,
    alpha: float = 0.01,
    adjusted: bool = False,
    arms: tuple[str, str] = ("control", "treatment"),
) -> TrustCheck:
    """Pre-period covariates compared across arms as A/A tests (Holm across covariates).

    An imbalance is a warning, not a halt: it is chance, and CUPED (``adjusted``) corrects
    it when the covariates enter the adjustment. ``arms`` (control, variant) name the two
    arms in the message, so that each variant's check says which one it is about.
    """
    base, other = arms
    if not covariates:
        return TrustCheck(name="balance", status="pass", message="no pre-period covariates")
    rows = [compare(control, variant, "mean", y=c) for c in covariates]
    p = np.array([float(r.p_value[0]) for r in rows])
    finite = np.isfinite(p)
    p_adj = adjust_p_values(p, "holm")
    flagged = [c for c, pa in zip(covariates, p_adj, strict=True) if pa < alpha]
    details: dict[str, float | str | None] = {}
    for c, r, pa in zip(covariates, rows, p_adj, strict=True):
        details[f"{c}_rel_diff"] = float(r.rel_effect[0])
        details[f"{c}_rel_ci_low"] = float(r.rel_ci_low[0])
        details[f"{c}_rel_ci_high"] = float(r.rel_ci_high[0])
        details[f"{c}_p_adjusted"] = float(pa)
    if flagged:
        at = dict(zip(covariates, rows, strict=True))
        parts = "; ".join(
            f"{c} of {other} is {at[c].rel_effect[0]:+.1%} [{at[c].rel_ci_low[0]:+.1%}, "
            f"{at[c].rel_ci_high[0]:+.1%}] vs {base}"
            for c in flagged
        )
        fix = "CUPED adjusts for it" if adjusted else "read the CUPED-adjusted effects"
        msg = f"chance pre-period imbalance: {parts} (Holm p < {alpha}); {fix}"
        status: CheckStatus = "warn"
    else:
        msg = (
            f"pre-period covariates of {other} balanced against {base} "
            f"({len(covariates)} tested, Holm p ≥ {alpha})"
        )
        status = "pass"
    return TrustCheck(
        name="balance",
        status=status,
        message=msg,
        p_value=float(np.nanmin(p_adj)) if finite.any() else None,
        details=details,
    )


def exposure_checks(
    total_units: int,
    multi_variant_units: int,
    out_of_phase_exposures: int,
    *,
    warn_share: float = 0.001,
    fail_share: float = 0.01,
) -> list[TrustCheck]:
    """Units seen in several variants, and exposures outside the experiment's phase."""
    if total_units <= 0:
        raise InputError(f"total_units must be > 0, got {total_units}")
    out = []
    for name, count, what in (
        ("multi_variant_units", multi_variant_units, "units exposed to more than one variant"),
        ("out_of_phase_exposures", out_of_phase_exposures, "exposures outside the phase"),
    ):
        if count < 0:
            raise InputError(f"{name} must be ≥ 0, got {count}")
        share = count / total_units
        status: CheckStatus = (
            "fail" if share > fail_share else "warn" if share > warn_share else "pass"
        )
        out.append(
            TrustCheck(
                name=name,
                status=status,
                message=f"{count:,} {what} ({share:.2%} of {total_units:,} units)",
                statistic=float(count),
                details={"share": share},
            )
        )
    return out


def effect_increments(
    cumulative: npt.ArrayLike, ses: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Per-look effects recovered from cumulative ones: (I_d θ_d − I_{d−1} θ_{d−1}) / ΔI_d.

    Its weights sum to one, so under a constant effect every increment is unbiased for it
    and a trend test on them keeps its size. The SEs 1/√ΔI_d treat information as additive
    (exact when each look adds new units, approximate when the same units' cumulative values
    grow); looks where information does not grow give NaN and are left out.
    """
    theta = np.asarray(cumulative, dtype=np.float64)
    se = np.asarray(ses, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        info = np.where(np.isfinite(se) & (se > 0), 1.0 / se**2, np.nan)
        prev_i = np.nan_to_num(np.r_[0.0, info[:-1]])
        prev_t = np.nan_to_num(np.r_[0.0, theta[:-1]])
        gain = info - prev_i
        inc = np.where(gain > 0, (info * theta - prev_i * prev_t) / gain, np.nan)
        inc_se = np.where(gain > 0, 1.0 / np.sqrt(gain), np.nan)
    return inc, inc_se


def novelty_check(
    days: npt.ArrayLike,
    estimates: npt.ArrayLike,
    ses: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    first_days: int = 7,
    relative: bool = True,
) -> TrustCheck:
    """Novelty/primacy from daily (non-cumulative) effects: WLS trend, first week vs later.

    The effects are relative (written as percentages, like every relative effect) unless
    ``relative`` is false.
    """
    d = np.asarray(days, dtype=np.float64)
    y = np.asarray(estimates, dtype=np.float64)
    s = np.asarray(ses, dtype=np.float64)
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    d, y, s = d[ok], y[ok], s[ok]
    if d.size < 3 or not (d < first_days).any() or not (d >= first_days).any():
        return TrustCheck(
            name="novelty", status="pass", message="too few days to judge a trend in the effect"
        )
    w = 1.0 / s**2
    slope, slope_se = _wls_slope(d, y, w)
    early, late = d < first_days, d >= first_days
    m1, v1 = np.sum(w[early] * y[early]) / w[early].sum(), 1.0 / w[early].sum()
    m2, v2 = np.sum(w[late] * y[late]) / w[late].sum(), 1.0 / w[late].sum()
    z = (m1 - m2) / np.sqrt(v1 + v2)
    p = two_sided_p(float(z))
    decays = p < alpha and m1 > m2 and abs(m1) > abs(m2)
    grows = p < alpha and abs(m2) > abs(m1)
    q = normal_quantile(1 - alpha / 2)

    num = fmt.pct if relative else fmt.signed
    kind = "relative effect" if relative else "effect"

    def ci(m: float, v: float) -> str:
        half = q * float(np.sqrt(v))
        return fmt.estimate(float(m), float(m) - half, float(m) + half, num)

    e1, e2 = ci(m1, v1), ci(m2, v2)
    p_txt = fmt.p_equals(p, alpha=alpha)
    details: dict[str, float | str | None] = {
        "first_week_effect": float(m1),
        "first_week_se": float(np.sqrt(v1)),
        "later_effect": float(m2),
        "later_se": float(np.sqrt(v2)),
        "slope_per_day": float(slope),
        "slope_se": float(slope_se),
    }
    status: CheckStatus
    if decays:
        status, msg = (
            "warn",
            (
                f"novelty effect: first-{first_days}-day {kind} {e1} vs {e2} later "
                f"(z = {fmt.fixed(float(z))}, {p_txt}); trust the later effect"
            ),
        )
    elif grows:
        status, msg = (
            "warn",
            (
                f"primacy effect: {kind} grows from {e1} in the first {first_days} days to "
                f"{e2} later (z = {fmt.fixed(float(z))}, {p_txt})"
            ),
        )
    else:
        status, msg = (
            "pass",
            f"{kind} stable over time: first {first_days} days {e1} vs {e2} later ({p_txt})",
        )
    return TrustCheck(
        name="novelty", status=status, message=msg, statistic=float(z), p_value=p, details=details
    )


def _wls_slope(x: FloatArray, y: FloatArray, w: FloatArray) -> tuple[float, float]:
    """Weighted least-squares slope with known variances (weights 1/se²) and its SE."""
    xm = np.sum(w * x) / w.sum()
    sxx = np.sum(w * (x - xm) ** 2)
    slope = np.sum(w * (x - xm) * y) / sxx
    return float(slope), float(np.sqrt(1.0 / sxx))


def simpson_check(
    segments: Sequence[str],
    n_control: npt.ArrayLike,
    n_variant: npt.ArrayLike,
    mean_control: npt.ArrayLike,
    mean_variant: npt.ArrayLike,
    *,
    threshold: float = 0.001,
    var_control: npt.ArrayLike | None = None,
    var_variant: npt.ArrayLike | None = None,
) -> TrustCheck:
    """Simpson's paradox: the pooled effect's sign against every segment's, with unequal mix.

    With the sampling variances of the segment means, the pooled effect carries its 95% interval.
    """
    nc, nv = np.asarray(n_control, float), np.asarray(n_variant, float)
    mc, mv = np.asarray(mean_control, float), np.asarray(mean_variant, float)
    if not (len(segments) == nc.size == nv.size == mc.size == mv.size):
        raise InputError("simpson_check: one count and one mean per segment and arm")
    pooled = np.sum(nv * mv) / nv.sum() - np.sum(nc * mc) / nc.sum()
    seg = mv - mc
    # Is the segment mix the same in both arms? (χ² test of the 2 × segments table)
    mix_p_val = contingency_p_value(np.vstack([nc, nv])) if nc.size > 1 else 1.0
    reversed_ = bool(nc.size > 1 and pooled != 0 and np.all(np.sign(seg) == -np.sign(pooled)))
    details: dict[str, float | str | None] = {"pooled_effect": float(pooled)}
    pooled_txt = fmt.signed(float(pooled))
    if var_control is not None and var_variant is not None:
        vc, vv = np.asarray(var_control, float), np.asarray(var_variant, float)
        se = float(np.sqrt(np.sum((nv / nv.sum()) ** 2 * vv) + np.sum((nc / nc.sum()) ** 2 * vc)))
        half = normal_quantile(0.975) * se
        details["pooled_se"] = se
        pooled_txt += " " + fmt.interval(pooled - half, pooled + half, fmt.signed)
    pooled_txt = f"difference in means {pooled_txt} (absolute, in the metric's unit"
    base = float(np.sum(nc * mc) / nc.sum())
    rel = fmt.pct(float(pooled) / base) + " of the control mean" if base != 0 else None
    pooled_txt += f"; {rel})" if rel is not None else ")"
    details.update({f"{s}_effect": float(e) for s, e in zip(segments, seg, strict=True)})
    details["mix_p_value"] = mix_p_val
    if reversed_:
        return TrustCheck(
            name="simpson",
            status="fail" if mix_p_val < threshold else "warn",
            message=(
                f"Simpson's paradox: pooled {pooled_txt} but every segment's effect has "
                f"the opposite sign; segment mix differs between arms "
                f"({fmt.p_equals(mix_p_val, alpha=threshold)})"
            ),
            p_value=mix_p_val,
            details=details,
        )
    return TrustCheck(
        name="simpson",
        status="pass",
        message=f"segment effects agree with the pooled effect: {pooled_txt}",
        p_value=mix_p_val,
        details=details,
    )
