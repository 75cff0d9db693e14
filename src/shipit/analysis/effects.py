"""The stats a plan asks for, vectorized over (variant, cell) rows of one metric's Moments.

Rows pair the control's group with each variant's group in the same cell (overall, a
segment or a day): raw comparisons, CUPED beside them when the metric has covariates,
the Normal posterior for Bayesian plans, and always-valid or group-sequential bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shipit._types import FloatArray
from shipit.spec.metric import MetricDef
from shipit.spec.plan import AnalysisPlan
from shipit.stats.bayesian import NormalComparison, NormalPrior, compare_normal
from shipit.stats.cuped import compare_cuped
from shipit.stats.estimands import summarize
from shipit.stats.frequentist import compare
from shipit.stats.gst import GstDesign
from shipit.stats.moments import Moments
from shipit.stats.results import ComparisonResult
from shipit.stats.sequential import msprt

__all__ = ["SPENDING", "RowStats", "pair_rows", "row_stats", "sequential_bounds", "stats_kind"]

# The spec's spending names as the stats package spells them.
SPENDING = {"obrien_fleming": "obf", "pocock": "pocock"}


def stats_kind(metric: MetricDef) -> str:
    """The estimand kind for stats: the spec's proportion/mean/ratio."""
    return metric.kind


def has_covariates(m: Moments, metric: MetricDef) -> bool:
    """Whether the computed moments carry covariate columns beyond y or num/den."""
    base = 2 if metric.kind == "ratio" else 1
    return len(m.names) > base


def pair_rows(
    m: Moments, control: Sequence[str], variant: Sequence[str]
) -> tuple[Moments, Moments]:
    """Control and variant Moments whose row i compares ``control[i]`` with ``variant[i]``."""
    index = {label: i for i, label in enumerate(m.labels)}
    tags = [f"{a}|{b}" for a, b in zip(control, variant, strict=True)]
    rows_c = [index[label] for label in control]
    rows_v = [index[label] for label in variant]
    return (
        Moments(tuple(f"c:{t}" for t in tags), m.names, m.matrix[rows_c]),
        Moments(tuple(f"v:{t}" for t in tags), m.names, m.matrix[rows_v]),
    )


@dataclass(frozen=True)
class RowStats:
    """Everything computed for a set of rows: raw, adjusted (CUPED) and the posterior."""

    raw: ComparisonResult
    adjusted: ComparisonResult | None
    posterior: NormalComparison | None

    @property
    def best(self) -> ComparisonResult:
        """The comparison to act on: CUPED when present."""
        return self.adjusted if self.adjusted is not None else self.raw


def row_stats(
    c: Moments,
    v: Moments,
    metric: MetricDef,
    plan: AnalysisPlan,
    *,
    higher_is_better: bool,
    bayes: bool | None = None,
) -> RowStats:
    """Raw comparison of every row; CUPED when the plan and the moments allow; posterior."""
    kind = stats_kind(metric)
    raw = compare(c, v, kind, alpha=plan.alpha, alternative=plan.alternative)
    adjusted = None
    stats_c, stats_v = summarize(c, kind), summarize(v, kind)
    relative = None
    if plan.cuped and has_covariates(c, metric):
        cc = compare_cuped(c, v, kind, alpha=plan.alpha, alternative=plan.alternative)
        adjusted = cc.adjusted
        stats_c, stats_v = cc.adjustment.control, cc.adjustment.variant
        relative = cc.adjustment.relative  # the adjusted means are correlated
    posterior = None
    if bayes if bayes is not None else plan.method == "bayesian":
        prior = plan.bayesian.prior
        normal = (
            NormalPrior(mean=prior.mean, sd=prior.sd)
            if prior.kind == "normal" and prior.sd is not None
            else NormalPrior()
        )
        posterior = compare_normal(
            stats_c,
            stats_v,
            prior=normal,
            scale="relative",
            level=1.0 - plan.alpha,
            higher_is_better=higher_is_better,
            effect=relative,
        )
    return RowStats(raw, adjusted, posterior)


@dataclass(frozen=True)
class Bounds:
    """Sequential bounds on the relative effect per row, the statistic and the crossing."""

    low: FloatArray
    high: FloatArray
    statistic: FloatArray
    fraction: FloatArray
    crossed: list[str]


def sequential_bounds(
    rel: FloatArray, rel_se: FloatArray, n: FloatArray, plan: AnalysisPlan, *, horizon: float
) -> Bounds:
    """Always-valid (mSPRT) confidence sequence or GST boundaries, on the relative effect.

    Rows are successive looks of one comparison (cumulative days) or single looks. The
    mSPRT mixing variance is the plan's ``tau`` or else the squared MDE (0.05 if none).
    """
    seq = plan.sequential
    with np.errstate(divide="ignore", invalid="ignore"):
        z = rel / rel_se
    frac = np.clip(n / max(horizon, 1.0), 0.0, 1.0)
    if seq.kind == "msprt":
        tau2 = seq.tau if seq.tau is not None else (plan.mde or 0.05) ** 2
        av = msprt(rel, rel_se, tau2=tau2, alpha=plan.alpha)
        low, high = av.ci_low, av.ci_high
    else:
        ok = np.isfinite(frac) & (frac > 0)
        bound = np.full(rel.shape, np.nan)
        if ok.any():
            design = GstDesign(spending=SPENDING[seq.spending], alpha=plan.alpha)
            fr = np.maximum.accumulate(frac[ok])
            fr = np.maximum(fr, np.arange(1, fr.size + 1) * 1e-9)
            fr = np.where(np.diff(np.r_[0.0, fr]) > 0, fr, np.nan)
            good = np.isfinite(fr)
            vals = np.full(fr.shape, np.nan)
            if good.any():
                vals[good] = design.bounds(fr[good], final=False).efficacy
            bound[ok] = vals
        with np.errstate(invalid="ignore"):
            low, high = -bound * rel_se, bound * rel_se
    crossed = [
        "upper" if (lo > 0) else "lower" if (hi < 0) else "none"
        for lo, hi in zip(
            np.nan_to_num(low if seq.kind == "msprt" else rel - high, nan=-np.inf),
            np.nan_to_num(high if seq.kind == "msprt" else rel - low, nan=np.inf),
            strict=True,
        )
    ]
    return Bounds(np.asarray(low), np.asarray(high), np.asarray(z), frac, crossed)
