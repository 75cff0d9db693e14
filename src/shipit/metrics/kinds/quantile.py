"""Quantile metrics (``quantile: 0.95``): the sample quantile per group, its interval, effects.

The estimate is the linearly interpolated sample quantile q̂ (numpy's default) of the
observations: every event's value (``quantile_of: events``) or every unit's aggregated
value, zeros included (``quantile_of: units``). Its interval is the delta method for
quantiles (Deng, Knoblich & Lu 2018, "Applying the Delta Method in Metric Analytics"):
with S_i = #observations of unit i ≤ q̂ and N_i = #observations, F̂(q̂) = ΣS/ΣN is a ratio
metric whose delta-method standard error σ, from unit-level moments, accounts for the
observations clustering within units; the interval is the sample quantiles at p ± z·σ,
and the standard error (U − L)/(2z). With one observation per unit σ² is p(1 − p)/n,
the classical order-statistic interval.

Effects are differences of independent quantile estimates, relative by the delta method
(``shipit.stats.frequentist.compare_stats`` on the estimates and standard errors).
Everything runs in the engine (see ``quantile_sql``): q̂ with the moments of S and N, then
the bound quantiles; no rows are pulled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Any

import numpy as np

from shipit._types import FloatArray
from shipit.metrics.kinds.base import Comparison, SummarySource
from shipit.metrics.kinds.own import OwnQueryKind, floats
from shipit.metrics.kinds.quantile_sql import SUMMARY_COLUMNS, QuantileQuery
from shipit.metrics.request import MomentsRequest
from shipit.metrics.summary import GroupKey
from shipit.spec.metric import MetricDef
from shipit.stats.estimands import GroupStats, summarize
from shipit.stats.frequentist import compare_stats
from shipit.stats.moments import Moments
from shipit.stats.results import ComparisonResult, Status
from shipit.store.engine import Engine

__all__ = [
    "BOUND_LEVEL",
    "QUANTILE",
    "QuantileKind",
    "QuantileSummary",
    "compare_quantiles",
    "compute_quantiles",
]

# The level of the order-statistic bounds whose width gives the standard error of q̂.
BOUND_LEVEL = 0.95


@dataclass(frozen=True)
class QuantileSummary:
    """Per group: units ``n``, observations, q̂, σ of F̂(q̂) and the bounds at p ∓ z·σ.

    Every array has one entry per group of ``groups``; a group without observations has
    NaN estimate and bounds.
    """

    q: float
    groups: tuple[GroupKey, ...]
    n: FloatArray
    n_obs: FloatArray
    estimate: FloatArray
    sigma: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    sql: str = ""

    def __len__(self) -> int:
        return len(self.groups)

    @property
    def z(self) -> float:
        """The normal quantile of the bounds' level."""
        return NormalDist().inv_cdf(0.5 + BOUND_LEVEL / 2.0)

    @property
    def se(self) -> FloatArray:
        """The standard error of q̂: the bounds' width over 2z."""
        out: FloatArray = (self.ci_high - self.ci_low) / (2.0 * self.z)
        return out

    def take(self, rows: Sequence[int]) -> QuantileSummary:
        """The summary of the given rows, in that order (a row may repeat)."""
        idx = np.asarray(rows, dtype=np.int64)
        return replace(
            self,
            groups=tuple(self.groups[i] for i in idx),
            **{k: getattr(self, k)[idx] for k in _ARRAYS},
        )

    def aligned(self, groups: Sequence[GroupKey]) -> QuantileSummary:
        """The rows of ``groups``, in that order; a group not computed has no units."""
        where = {g: i for i, g in enumerate(self.groups)}
        k = len(groups)
        arrays: dict[str, Any] = {name: np.full(k, np.nan) for name in _ARRAYS}
        arrays["n"] = np.zeros(k)
        arrays["n_obs"] = np.zeros(k)
        for j, g in enumerate(groups):
            if g in where:
                for name in _ARRAYS:
                    arrays[name][j] = getattr(self, name)[where[g]]
        return replace(self, groups=tuple(groups), **arrays)


_ARRAYS = ("n", "n_obs", "estimate", "sigma", "ci_low", "ci_high")


class QuantileKind(OwnQueryKind[QuantileSummary]):
    """``quantile: q`` metrics: the engine's quantile summary, compared by the difference
    of two independent quantile estimates. No CUPED (the spec refuses covariates); a
    Normal posterior on the estimates and their variances."""

    name = "quantile"
    summary_type = QuantileSummary

    def compute(self, source: SummarySource, metric: MetricDef) -> QuantileSummary:
        """The quantile summary (two round trips)."""
        return compute_quantiles(source.engine, source.request, metric)

    def stats(self, summary: QuantileSummary) -> GroupStats:
        """q̂ and its variance ((U − L)/2z)² per row."""
        return _group_stats(summary)

    def compare_summaries(
        self, control: QuantileSummary, variant: QuantileSummary, *, alpha: float, alternative: str
    ) -> Comparison:
        """The difference of the quantiles, absolute and relative."""
        raw = compare_quantiles(control, variant, alpha=alpha, alternative=alternative)
        return Comparison(raw, None, _group_stats(control), _group_stats(variant))


QUANTILE = QuantileKind()


def compute_quantiles(
    engine: Engine, request: MomentsRequest, metric: MetricDef
) -> QuantileSummary:
    """The quantile summary of one metric for the request's groups, in two round trips:
    q̂ with the unit moments of S and N, then the bounds at p ∓ z·σ."""
    query = QuantileQuery(request, metric, engine.capabilities)
    sql = query.summary_sql()
    raw = engine.query(sql).to_pydict()
    groups = _groups(raw, query.keys)
    num = {c: floats(raw[c]) for c in SUMMARY_COLUMNS}
    num["n_obs"] = np.nan_to_num(num["n_obs"])
    q = float(metric.quantile or 0.5)
    sigma = ratio_sigma(num["n"], num["s"], num["c"], num["s_s"], num["s_c"], num["c_c"])
    lo_p, hi_p = bound_probabilities(q, sigma)
    has = np.isfinite(num["qhat"]) & np.isfinite(lo_p) & np.isfinite(hi_p)
    lo = np.full(len(groups), np.nan)
    hi = np.full(len(groups), np.nan)
    if has.any():
        probs = sorted({float(p) for p in np.concatenate([lo_p[has], hi_p[has]])})
        bounds_sql = query.bounds_sql(probs)
        got = engine.query(bounds_sql).to_pydict()
        where = {g: i for i, g in enumerate(groups)}
        pos = {p: j for j, p in enumerate(probs)}
        for g, values in zip(_groups(got, query.keys), got["bounds"], strict=True):
            i = where[g]
            if has[i]:
                lo[i] = float(values[pos[float(lo_p[i])]])
                hi[i] = float(values[pos[float(hi_p[i])]])
        sql = f"{sql};\n-- then the bounds:\n{bounds_sql}"
    return QuantileSummary(q, groups, num["n"], num["n_obs"], num["qhat"], sigma, lo, hi, sql)


def ratio_sigma(
    n: FloatArray, s: FloatArray, c: FloatArray, s_s: FloatArray, s_c: FloatArray, c_c: FloatArray
) -> FloatArray:
    """Delta-method standard error of F̂ = ΣS/ΣN from the unit moments (n units, Σs, Σn,
    Σs², Σsn, Σn²): √(Var(S − F̂·N) / (n·mean(N)²))."""
    k = len(n)
    sums = np.column_stack([s, c]) if k else np.zeros((0, 2))
    cross = np.stack([np.column_stack([s_s, s_c]), np.column_stack([s_c, c_c])], axis=1)
    m = Moments.from_sums([str(i) for i in range(k)], ("s", "c"), n, sums, cross.reshape(k, 2, 2))
    var = summarize(m, "ratio", num="s", den="c").var
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.sqrt(var)
    return out


def bound_probabilities(q: float, sigma: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The probabilities p ∓ z·σ of the bounds, within [0, 1]."""
    z = NormalDist().inv_cdf(0.5 + BOUND_LEVEL / 2.0)
    with np.errstate(invalid="ignore"):
        return np.clip(q - z * sigma, 0.0, 1.0), np.clip(q + z * sigma, 0.0, 1.0)


def compare_quantiles(
    control: QuantileSummary,
    variant: QuantileSummary,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    margin: float | None = None,
    relative_margin: bool = False,
) -> ComparisonResult:
    """Row i of ``variant`` against row i of ``control``: the difference of the two
    quantile estimates (normal, variances add) and the relative effect (delta method)."""
    c, v = _group_stats(control), _group_stats(variant)
    out = compare_stats(
        c, v, alpha=alpha, alternative=alternative, margin=margin, relative_margin=relative_margin
    )
    few = (control.n_obs < 2) | (variant.n_obs < 2) | ~np.isfinite(c.mean * v.mean)
    if not few.any():
        return out
    status = out.status.astype(object)
    status[few] = Status.TOO_FEW_UNITS.value
    blank = {name: np.where(few, np.nan, getattr(out, name)) for name in _BLANKED}
    return replace(out, status=status.astype(str), **blank)


# The numbers a comparison cannot give without two observations in each group.
_BLANKED: tuple[str, ...] = ("abs_se", "abs_ci_low", "abs_ci_high", "rel_se", "rel_ci_low")
_BLANKED += ("rel_ci_high", "statistic", "p_value")


def _group_stats(s: QuantileSummary) -> GroupStats:
    var = s.se**2
    return GroupStats(s.n, s.estimate, var * s.n, var)


def _groups(raw: Mapping[str, list[Any]], keys: Sequence[str]) -> tuple[GroupKey, ...]:
    return tuple(GroupKey.of_row(raw, keys, i) for i in range(len(raw["variant"])))
