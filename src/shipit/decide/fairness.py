"""Fairness trust checks: does the primary's effect harm a group of a protected attribute?

One check per (attribute, treatment variant), from the per-group effects of the primary
(``SegmentEffect`` rows of that attribute): the effect per group, the largest difference
and ratio between groups with their intervals, Cochran's Q, and

- ``fail`` when the pooled effect is beneficial but a group's effect is significantly
  worse than zero (one-sided, Holm-adjusted across the attribute's groups, at alpha);
- ``warn`` when the pooled effect is beneficial and a group is worse than zero before
  the correction, or the groups' effects differ (Q's p-value below alpha);
- ``pass`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shipit.result import format as fmt
from shipit.result.model import CheckStatus, Effect, SegmentEffect, TrustCheck
from shipit.stats.fairness import group_fairness

__all__ = ["fairness_check"]


def fairness_check(
    attribute: str,
    groups: Sequence[SegmentEffect],
    pooled: Effect,
    *,
    alpha: float = 0.05,
    name: str | None = None,
) -> TrustCheck:
    """The fairness check of one attribute for the variant of ``pooled`` (its groups)."""
    rows = [g for g in groups if g.variant == pooled.variant and g.metric == pooled.metric]
    relative = all(g.estimate.rel_effect is not None for g in rows)
    est = np.array([_get(g, relative)[0] for g in rows])
    se = np.array([_get(g, relative)[1] for g in rows])
    label = name or f"fairness_{attribute}"
    usable = np.isfinite(est) & np.isfinite(se) & (se > 0)
    if usable.sum() < 2:
        return TrustCheck(
            name=label,
            status="warn",
            message=f"fairness by {attribute}: fewer than two groups with an estimate",
        )
    hib = pooled.higher_is_better
    r = group_fairness(est, se, alpha=alpha, higher_is_better=hib, relative=relative)
    b = pooled.best
    shown = b.rel_effect if relative else b.abs_effect
    beneficial = shown is not None and (shown > 0 if hib else shown < 0)
    names = [g.segment for g in rows]
    harmed = [names[i] for i in range(len(rows)) if r.p_harm_adjusted[i] < alpha]
    worse = [names[i] for i in range(len(rows)) if r.p_harm[i] < alpha]
    status: CheckStatus = "pass"
    num = fmt.pct if relative else fmt.signed
    if beneficial and harmed:
        status = "fail"
        why = f"{', '.join(harmed)} harmed while the pooled effect is {num(shown)}"
    elif beneficial and (worse or r.p_heterogeneity < alpha):
        status = "warn"
        why = (
            f"{', '.join(worse)} worse than zero before correction"
            if worse
            else f"effects differ across groups (Cochran's Q p = {fmt.p_value(r.p_heterogeneity)})"
        )
    else:
        why = "no group harmed"
    spread = fmt.estimate(r.difference, *r.difference_ci, num)
    message = (
        f"fairness by {attribute} ({pooled.variant}): {why}; largest difference "
        f"{names[r.highest]} − {names[r.lowest]} {spread}"
    )
    details: dict[str, float | str | None] = {
        "attribute": attribute,
        "variant": pooled.variant,
        "scale": "relative" if relative else "absolute",
        "highest": names[r.highest],
        "lowest": names[r.lowest],
        "max_difference": r.difference,
        "max_difference_ci_low": r.difference_ci[0],
        "max_difference_ci_high": r.difference_ci[1],
        "max_ratio": _finite(r.ratio),
        "max_ratio_ci_low": _finite(r.ratio_ci[0]),
        "max_ratio_ci_high": _finite(r.ratio_ci[1]),
        "q": r.q,
        "df": float(r.df),
        "i_squared": r.i_squared,
    }
    for i, g in enumerate(rows):
        e = g.estimate
        lo, hi = (e.rel_ci_low, e.rel_ci_high) if relative else (e.abs_ci_low, e.abs_ci_high)
        details[f"effect[{g.segment}]"] = _finite(float(est[i]))
        details[f"ci_low[{g.segment}]"] = lo
        details[f"ci_high[{g.segment}]"] = hi
        details[f"p_harm[{g.segment}]"] = _finite(float(r.p_harm[i]))
        details[f"p_harm_adjusted[{g.segment}]"] = _finite(float(r.p_harm_adjusted[i]))
    return TrustCheck(
        name=label,
        status=status,
        message=message,
        statistic=r.q,
        p_value=r.p_heterogeneity,
        details=details,
    )


def _get(g: SegmentEffect, relative: bool) -> tuple[float, float]:
    e = g.estimate
    est, se = (e.rel_effect, e.rel_se) if relative else (e.abs_effect, e.abs_se)
    if est is None or se is None:
        return float("nan"), float("nan")
    return float(est), float(se)


def _finite(x: float) -> float | None:
    return x if np.isfinite(x) else None
