"""One row-wise comparison of moments, raw and CUPED beside it, and the Normal posterior
it implies: the calls both ``shipit analyze`` (through the metric kinds) and ``shipit stats``
make."""

from __future__ import annotations

from dataclasses import dataclass

from shipit._types import FloatArray
from shipit.stats.bayesian import NormalComparison, NormalPrior, compare_normal
from shipit.stats.cuped import CupedResult, compare_cuped
from shipit.stats.estimands import Effect, GroupStats, summarize
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments
from shipit.stats.rank import RankResult
from shipit.stats.results import ComparisonResult

__all__ = ["Comparison", "compare_moments", "normal_posterior"]

# Columns of z before the covariates, per estimand.
_VALUE_COLUMNS = {"proportion": 1, "mean": 1, "ratio": 2}


@dataclass(frozen=True)
class Comparison:
    """Control vs variant, row by row: raw, CUPED-adjusted when computed, and the group
    estimates (adjusted ones when adjusted) that a Normal posterior starts from.

    ``relative`` is the relative effect with its standard error where the group estimates
    are not independent (CUPED's adjusted means share the pooled covariate mean); a
    posterior should start from it rather than from the two groups alone. ``cuped`` is the
    adjustment itself (θ, variance reduction, equivalent n, ...) when CUPED ran."""

    raw: ComparisonResult
    adjusted: ComparisonResult | None
    control: GroupStats
    variant: GroupStats
    relative: Effect | None = None
    cuped: CupedResult | None = None
    rank: RankResult | None = None  # a rank test's U, p and probability of superiority
    # A bootstrap's own p-value per row: the share of resampled effects across zero.
    bootstrap_p_value: FloatArray | None = None

    @property
    def best(self) -> ComparisonResult:
        """The comparison to act on: CUPED when present."""
        return self.adjusted if self.adjusted is not None else self.raw

    def posterior(
        self, prior: NormalPrior, *, level: float = 0.95, higher_is_better: bool = True
    ) -> NormalComparison:
        """The Normal posterior of the relative effect of every row (see ``normal_posterior``)."""
        return normal_posterior(
            self.control,
            self.variant,
            self.relative,
            prior=prior,
            level=level,
            higher_is_better=higher_is_better,
        )


def normal_posterior(
    control: GroupStats,
    variant: GroupStats,
    relative: Effect | None,
    *,
    prior: NormalPrior,
    level: float = 0.95,
    higher_is_better: bool = True,
) -> NormalComparison:
    """The posterior of the relative effect from a comparison's group estimates (CUPED's
    when it ran) and, where they are correlated, its own ``relative`` effect."""
    return compare_normal(
        control,
        variant,
        prior=prior,
        scale="relative",
        level=level,
        higher_is_better=higher_is_better,
        effect=relative,
    )


def compare_moments(
    control: Moments,
    variant: Moments,
    kind: str,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    cuped: bool = True,
    margin: float | None = None,
    relative_margin: bool = False,
) -> Comparison:
    """Row i of ``variant`` against row i of ``control`` for the estimand ``kind``; CUPED
    beside the raw comparison when ``cuped`` and the moments carry covariates (the columns
    after the kind's value columns); ``margin`` as in ``frequentist.compare``."""
    c, v = control, variant
    raw = compare(
        c,
        v,
        kind,
        alpha=alpha,
        alternative=alternative,
        margin=margin,
        relative_margin=relative_margin,
    )
    stats_c, stats_v = summarize(c, kind), summarize(v, kind)
    if not (cuped and len(c.names) > _VALUE_COLUMNS[kind]):
        return Comparison(raw, None, stats_c, stats_v)
    cc = compare_cuped(
        c,
        v,
        kind,
        alpha=alpha,
        alternative=alternative,
        margin=margin,
        relative_margin=relative_margin,
    )
    adj = cc.adjustment
    # the adjusted means are correlated: the relative effect comes with them
    return Comparison(raw, cc.adjusted, adj.control, adj.variant, adj.relative, adj)
