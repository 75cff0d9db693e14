"""Analysis of a bandit experiment from the store: adaptive-aware estimates per variant.

Each unit is weighted by the inverse of the weight its entry period gave its variant
(``bandits.inference.ipw_means``, Horvitz–Thompson), which is unbiased however the bandit
moved its traffic; P(best) is read from those estimates' normal approximations. The usual
A/B part of the analysis runs beside it with the sample-ratio check expecting the split
the periods' weights imply (Σₜ Nₜ wₜ / N), not the spec's starting weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from shipit.analysis.bandit_moments import PeriodMoments, period_moments
from shipit.bandits.inference import ipw_means
from shipit.bandits.policies import normal_prob_best
from shipit.errors import DataError
from shipit.registry.bandits import BanditPeriod
from shipit.result.bandit import BanditArm, BanditPeriodSummary, BanditResult
from shipit.result.model import Analysis
from shipit.spec.experiment import Experiment
from shipit.store.engine import Engine

__all__ = ["attach_bandit", "bandit_result", "prepare_bandit", "spec_periods"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def spec_periods(experiment: Experiment, start: datetime | None) -> list[BanditPeriod]:
    """One period serving the spec's weights (a bandit never updated, or no registry)."""
    weights = dict(zip(experiment.variant_keys, experiment.weights, strict=True))
    return [BanditPeriod(0, start or _EPOCH, weights, "start")]


def bandit_result(
    experiment: Experiment, pm: PeriodMoments, periods: Sequence[BanditPeriod]
) -> BanditResult:
    """IPW means with intervals, differences from the control and P(best) per variant."""
    assert experiment.bandit is not None
    alpha = experiment.analysis.alpha
    variants = list(pm.variants)
    control = experiment.control_variant
    order = [variants.index(control)] + [i for i, v in enumerate(variants) if v != control]
    est = ipw_means(
        pm.n[:, order], pm.total[:, order], pm.total_sq[:, order], pm.weights[:, order],
        alpha=alpha,
    )  # fmt: skip
    names = [variants[i] for i in order]
    ok = np.isfinite(est.mean) & np.isfinite(est.se)
    p_best = np.full(len(names), np.nan)
    if ok.any():
        seed = np.random.default_rng([experiment.bandit.seed, len(periods)])
        p_best[ok] = normal_prob_best(est.mean[ok], est.se[ok], draws=20_000, seed=seed)
    units = pm.n.sum(axis=0)[order]
    now = periods[-1].weights
    arms = tuple(
        BanditArm(
            variant=v,
            units=int(units[j]),
            mean=est.mean[j],
            se=est.se[j],
            ci_low=est.lower[j],
            ci_high=est.upper[j],
            naive_mean=est.naive[j],
            effect=est.effect[j] if j else None,
            effect_ci_low=est.effect_lower[j] if j else None,
            effect_ci_high=est.effect_upper[j] if j else None,
            p_best=p_best[j],
            weight_now=now.get(v),
        )
        for j, v in enumerate(names)
    )
    best = int(np.nanargmax(p_best)) if np.isfinite(p_best).any() else None
    summaries = tuple(
        BanditPeriodSummary(
            number=p.number,
            started_at=p.started_at.isoformat(),
            weights=dict(p.weights),
            units={v: int(pm.n[t, k]) for k, v in enumerate(variants)},
        )
        for t, p in enumerate(periods)
    )
    return BanditResult(
        reward=experiment.bandit.reward,
        policy=experiment.bandit.policy,
        alpha=alpha,
        best=names[best] if best is not None else None,
        p_best=p_best[best] if best is not None else None,
        arms=arms,
        periods=summaries,
    )


def prepare_bandit(
    experiment: Experiment,
    engine: Engine,
    periods: Sequence[BanditPeriod] | None,
    *,
    phase: int | None,
    phase_start: datetime | None,
) -> tuple[Experiment, BanditResult]:
    """The bandit result, and the experiment whose weights are the split its periods imply
    (what the A/B part's sample-ratio check should expect)."""
    periods = list(periods) if periods else spec_periods(experiment, phase_start)
    pm = period_moments(
        experiment,
        engine,
        [p.started_at for p in periods],
        [p.weights for p in periods],
        phase=phase,
        phase_start=phase_start,
    )
    total = pm.n.sum()
    if total == 0:
        raise DataError(f"bandit {experiment.key!r} has no exposures in the store")
    expected = (pm.n.sum(axis=1, keepdims=True) * pm.weights).sum(axis=0) / total
    variants = tuple(
        v.model_copy(update={"weight": float(w)})
        for v, w in zip(experiment.variants, expected, strict=True)
    )
    return experiment.model_copy(update={"variants": variants}), bandit_result(
        experiment, pm, periods
    )


def attach_bandit(result: Analysis, bandit: BanditResult) -> Analysis:
    """The analysis with its bandit part and a note naming the best variant."""
    note = (
        f"bandit: {bandit.best} is best on {bandit.reward} with probability "
        f"{bandit.p_best:.3f} (inverse-propensity estimates over {len(bandit.periods)} "
        "allocation periods)"
        if bandit.best is not None and bandit.p_best is not None
        else f"bandit: no estimate of the best variant on {bandit.reward} yet"
    )
    return result.model_copy(update={"bandit": bandit, "notes": (*result.notes, note)})
