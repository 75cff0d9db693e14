"""Design-aware analysis from the store: the variance the spec's randomization design calls
for (``Experiment.design``).

Cluster designs: the engine's per-unit query grouped by cluster gives each cluster's
moments; each arm's mean is then a ratio of cluster totals with its delta-method variance
(the cluster is the unit of analysis). The unit-level result is kept beside it, to show
how far treating correlated units as independent would mislead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shipit.errors import DataError, InputError
from shipit.metrics.run import compute_moments
from shipit.metrics.summary import GroupKey
from shipit.spec.design import ClusterDesign, StratifiedDesign
from shipit.spec.experiment import Experiment
from shipit.spec.metric import MetricDef
from shipit.stats.clustered import cluster_totals, compare_clustered
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments
from shipit.stats.results import ComparisonResult
from shipit.stats.stratified import StratifiedEffect, compare_stratified
from shipit.store.engine import Engine

__all__ = [
    "ClusterAnalysis",
    "ClusterEffect",
    "StratifiedResult",
    "analyze_cluster",
    "analyze_stratified",
    "design_metrics",
]

_CLUSTER_KINDS = ("mean", "proportion", "ratio")


@dataclass(frozen=True)
class ClusterEffect:
    """One metric, one variant against control: the cluster-robust comparison (``robust``,
    n counts clusters) and the unit-level one (``naive``, n counts units)."""

    metric: str
    variant: str
    clusters_control: int
    clusters_variant: int
    robust: ComparisonResult
    naive: ComparisonResult

    def record(self) -> dict[str, Any]:
        """A JSON-ready row: the robust estimate first, the naive standard error beside it."""
        row = self.robust.records()[0]
        naive = self.naive.records()[0]
        return {
            "metric": self.metric,
            "variant": self.variant,
            "clusters_control": self.clusters_control,
            "clusters_variant": self.clusters_variant,
            "units_control": naive["n_control"],
            "units_variant": naive["n_variant"],
            **{k: row[k] for k in ("mean_control", "mean_variant", "abs_effect", "abs_se")},
            **{k: row[k] for k in ("abs_ci_low", "abs_ci_high", "rel_effect", "rel_se")},
            **{k: row[k] for k in ("rel_ci_low", "rel_ci_high", "p_value", "status")},
            "naive_abs_se": naive["abs_se"],
            "naive_p_value": naive["p_value"],
            "design_effect": (row["abs_se"] / naive["abs_se"]) ** 2
            if row["abs_se"] is not None and naive["abs_se"]
            else None,
        }


@dataclass(frozen=True)
class ClusterAnalysis:
    """The cluster-robust analysis of every moment metric of a cluster-design experiment."""

    experiment: str
    cluster_by: str
    effects: tuple[ClusterEffect, ...]

    def effect(self, metric: str, variant: str | None = None) -> ClusterEffect:
        """The effect of ``metric`` for ``variant`` (the first treatment when not given)."""
        for e in self.effects:
            if e.metric == metric and (variant is None or e.variant == variant):
                return e
        raise InputError(f"no effect for metric {metric!r} and variant {variant!r}")

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready row per (metric, variant)."""
        return [e.record() for e in self.effects]


def design_metrics(experiment: Experiment, names: Sequence[str] | None = None) -> list[MetricDef]:
    """The metrics to analyse: ``names``, else primary, secondary and guardrail metrics."""
    if names is None:
        chosen = [experiment.primary_metric, *experiment.secondary_metrics]
        chosen += [g.metric for g in experiment.guardrails]
        names = [m for m in dict.fromkeys(chosen) if m is not None] or list(
            experiment.metric_defs()
        )
    return [experiment.metric(n) for n in names]


def analyze_cluster(
    engine: Engine,
    experiment: Experiment,
    *,
    phase: int | None = None,
    metrics: Sequence[str] | None = None,
) -> ClusterAnalysis:
    """Cluster-robust effects of a cluster-design experiment from the store.

    The cluster attribute (``design.by``) is read from the exposures or the units table.
    A cluster seen in two variants means the design was not followed: DataError.
    """
    design = experiment.design
    if not isinstance(design, ClusterDesign):
        raise InputError(f"experiment {experiment.key!r} does not have a cluster design")
    defs = design_metrics(experiment, metrics)
    for m in defs:
        if str(m.kind) not in _CLUSTER_KINDS:
            raise InputError(
                f"metric {m.name!r} is a {m.kind} metric: the cluster-robust analysis "
                f"supports {', '.join(_CLUSTER_KINDS)}"
            )
    variants = list(experiment.variant_keys)
    summary = compute_moments(engine, experiment.key, phase, variants, defs, by=design.by)
    # Only the (variant, cluster) cells with units: the query may return empty ones.
    rows = np.flatnonzero(summary.moments(defs[0].name).n > 0)
    arms = np.array([summary.groups[i].variant for i in rows], dtype=str)
    clusters = [summary.groups[i].segment for i in rows]
    seen: dict[str | None, str] = {}
    for cluster, arm in zip(clusters, arms, strict=True):
        if seen.setdefault(cluster, str(arm)) != arm:
            raise DataError(
                f"cluster {cluster!r} ({design.by}) has units in variants "
                f"{seen[cluster]!r} and {str(arm)!r}: "
                "a cluster design gives every unit of a cluster the same variant"
            )
    control = experiment.control_variant
    alpha = experiment.analysis.alpha
    effects = []
    for m in defs:
        cells = summary.moments(m.name).take(rows)
        kind = str(m.kind)
        totals = cluster_totals(cells, arms, variants, kind)
        units = _pooled(cells, arms, variants)
        c = variants.index(control)
        for v, variant in enumerate(variants):
            if variant == control:
                continue
            robust = compare_clustered(totals.take([c]), totals.take([v]), alpha=alpha)
            naive = compare(units.take([c]), units.take([v]), kind, alpha=alpha)
            effects.append(
                ClusterEffect(
                    m.name,
                    variant,
                    int(np.sum(arms == control)),
                    int(np.sum(arms == variant)),
                    robust,
                    naive,
                )
            )
    return ClusterAnalysis(experiment.key, design.by, tuple(effects))


def _pooled(cells: Moments, arms: np.ndarray, variants: Sequence[str]) -> Moments:
    """Unit-level moments per variant: the cluster cells of each variant added up."""
    matrix = np.zeros((len(variants), *cells.matrix.shape[1:]))
    for i, v in enumerate(variants):
        matrix[i] = cells.matrix[arms == v].sum(axis=0)
    return Moments(tuple(variants), cells.names, matrix)


@dataclass(frozen=True)
class StratifiedResult:
    """One metric, one variant: the stratified estimate and the unstratified comparison."""

    metric: str
    variant: str
    stratified: StratifiedEffect
    unstratified: ComparisonResult


def analyze_stratified(
    engine: Engine,
    experiment: Experiment,
    *,
    phase: int | None = None,
    metrics: Sequence[str] | None = None,
) -> list[StratifiedResult]:
    """Stratified effects of a stratified (one ``by`` attribute) experiment from the store:
    the engine's moments per (variant, stratum), combined with the strata's weights."""
    design = experiment.design
    if not isinstance(design, StratifiedDesign):
        raise InputError(f"experiment {experiment.key!r} does not have a stratified design")
    if len(design.by) != 1:
        raise InputError(
            f"design.by {list(design.by)}: the analysis reads one stratum attribute; store "
            "their combination as one column and name it"
        )
    defs = design_metrics(experiment, metrics)
    variants = list(experiment.variant_keys)
    summary = compute_moments(engine, experiment.key, phase, variants, defs, by=design.by[0])
    strata = summary.segments
    control = experiment.control_variant
    out = []
    for m in defs:
        cells = summary.moments(m.name)
        kind = str(m.kind)
        arms = np.array([g.variant for g in summary.groups], dtype=str)

        def arm_cells(variant: str, cells: Moments = cells, arms: np.ndarray = arms) -> Moments:
            return cells.take([summary.rows([GroupKey(variant, s)])[0] for s in strata]).rename(
                strata
            )

        units = _pooled(cells, arms, variants)
        c = variants.index(control)
        for v, variant in enumerate(variants):
            if variant == control:
                continue
            effect = compare_stratified(
                arm_cells(control), arm_cells(variant), kind, alpha=experiment.analysis.alpha
            )
            plain = compare(units.take([c]), units.take([v]), kind, alpha=experiment.analysis.alpha)
            out.append(StratifiedResult(m.name, variant, effect, plain))
    return out
