"""Power by the normal-approximation formulas: n = (z₁₋α/₂ + z₁₋β)² · 2σ² / δ² per variant.

Used to say whether the experiment reached its planned sample, what effect it could detect,
and how many more units (and days, at the observed rate) it needs.
"""

from __future__ import annotations

import math

from shipit.errors import InputError
from shipit.result.model import PowerInfo, TrustCheck
from shipit.stats.normal import normal_quantile
from shipit.stats.power import mde_mean, sample_size_mean
from shipit.stats.power_at_n import achieved_power as exact_power

__all__ = ["achieved_power", "power_check", "power_info", "reachable_mde", "sample_size"]


def _z(alpha: float, power: float) -> float:
    if not (0 < alpha < 1 and 0 < power < 1):
        raise InputError(f"alpha and power must be in (0, 1), got {alpha}, {power}")
    return normal_quantile(1 - alpha / 2) + normal_quantile(power)


def sample_size(sd: float, mde: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Units per variant to detect an absolute effect ``mde`` with a two-sided test."""
    if sd <= 0 or mde <= 0:
        raise InputError(f"sample_size needs sd > 0 and mde > 0, got {sd}, {mde}")
    _z(alpha, power)
    return float(sample_size_mean(sd, mde, alpha=alpha, power=power))


def reachable_mde(sd: float, n: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest absolute effect ``n`` units per variant detect at the given power."""
    if sd <= 0 or n <= 0:
        raise InputError(f"reachable_mde needs sd > 0 and n > 0, got {sd}, {n}")
    _z(alpha, power)
    return float(mde_mean(sd, n, alpha=alpha, power=power))


def achieved_power(sd: float, n: float, mde: float, *, alpha: float = 0.05) -> float:
    """Power of the two-sided test at effect ``mde`` with ``n`` units per variant."""
    if sd <= 0 or n <= 0:
        raise InputError(f"achieved_power needs sd > 0 and n > 0, got {sd}, {n}")
    if mde == 0:
        return alpha
    return float(exact_power("mean", n, abs(mde), sd=sd, alpha=alpha))


def power_info(
    metric: str,
    *,
    sd: float,
    n: int,
    mde: float,
    baseline: float | None = None,
    relative: bool = True,
    alpha: float = 0.05,
    power: float = 0.8,
    planned_n: int | None = None,
    units_per_day: float | None = None,
) -> PowerInfo:
    """Power summary of one metric; a relative MDE is scaled by the control ``baseline``."""
    if relative:
        if baseline is None or baseline == 0:
            raise InputError(f"{metric}: a relative MDE needs a non-zero baseline mean")
        delta = mde * abs(baseline)
    else:
        delta = mde
    needed = math.ceil(sample_size(sd, delta, alpha=alpha, power=power))
    reach = reachable_mde(sd, n, alpha=alpha, power=power)
    extra = max(0, needed - n)
    days = None
    if units_per_day is not None and units_per_day > 0:
        days = math.ceil(extra / units_per_day)
    return PowerInfo(
        metric=metric,
        mde=mde,
        relative=relative,
        alpha=alpha,
        power=power,
        units_per_variant=n,
        planned_units_per_variant=planned_n,
        needed_units_per_variant=needed,
        achieved_power=achieved_power(sd, n, delta, alpha=alpha),
        reachable_mde=reach / abs(baseline) if relative and baseline else reach,
        extra_units=extra,
        extra_days=days,
    )


def power_check(info: PowerInfo) -> TrustCheck:
    """The achieved sample against the plan, as a trust check: warn when under-powered."""
    achieved = info.achieved_power
    short = (
        info.planned_units_per_variant is not None
        and info.units_per_variant < info.planned_units_per_variant
    )
    weak = achieved is not None and achieved < info.power
    mde = f"{info.mde:.1%}" if info.relative else f"{info.mde:g}"
    reach = info.reachable_mde
    reach_txt = "n/a" if reach is None else (f"{reach:.2%}" if info.relative else f"{reach:.4g}")
    plan = (
        f" of {info.planned_units_per_variant:,} planned"
        if info.planned_units_per_variant is not None
        else ""
    )
    msg = (
        f"{info.metric}: {info.units_per_variant:,} units per variant{plan}; power "
        f"{'n/a' if achieved is None else f'{achieved:.0%}'} at the {mde} MDE "
        f"(reachable MDE {reach_txt})"
    )
    if weak or short:
        more = ""
        if info.extra_units:
            more = f"; {info.extra_units:,} more units per variant"
            if info.extra_days is not None:
                more += f" (~{info.extra_days} days)"
            more += f" needed to reach {info.power:.0%} power"
        return TrustCheck(name="power", status="warn", message=msg + more, statistic=achieved)
    return TrustCheck(name="power", status="pass", message=msg, statistic=achieved)
