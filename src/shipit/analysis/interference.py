"""The exposure analysis of an ego-cluster (graph) experiment from the store.

The engine computes each unit's share of treated neighbours by a join over the edges and
sums, per ego cluster, what the regression y ~ t + f and the condition contrast need
(``metrics.interference``); the cluster-robust fit (``stats.interference``) gives the
direct, spillover and total effects, and ``stats.clustered`` the contrast between treated
units in mostly treated neighbourhoods and control units in mostly control ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from shipit.metrics.interference import exposure_moments
from shipit.result.design import ExposureAnalysis, ExposureEstimate
from shipit.spec.design import EgoClusterDesign
from shipit.spec.experiment import Experiment
from shipit.stats.clustered import compare_clustered
from shipit.stats.interference import ExposureEstimate as Fitted
from shipit.stats.interference import fit_spillover
from shipit.store.engine import Engine

__all__ = ["analyze_exposure"]


def _estimate(e: Fitted) -> ExposureEstimate:
    return ExposureEstimate(
        estimate=e.estimate, se=e.se, ci_low=e.ci_low, ci_high=e.ci_high, p_value=e.p_value
    )


def analyze_exposure(
    engine: Engine,
    experiment: Experiment,
    metric: str | None = None,
    *,
    phase: int | None = None,
    phase_start: datetime | None = None,
    tables: Mapping[str, str] | None = None,
) -> ExposureAnalysis:
    """Direct, spillover and total effects of ``metric`` (default: the primary), and the
    mostly-treated vs mostly-control contrast, with cluster-robust intervals."""
    design = experiment.design
    assert isinstance(design, EgoClusterDesign)
    name = metric or experiment.primary_metric or next(iter(experiment.metric_defs()))
    em = exposure_moments(
        engine,
        experiment.key,
        phase,
        list(experiment.variant_keys),
        experiment.control_variant,
        experiment.metric(name),
        edges=design.edges,
        cluster_by=design.by,
        threshold=design.threshold,
        phase_start=phase_start,
        tables=tables,
    )
    alpha = experiment.analysis.alpha
    fit = fit_spillover(em.regression, alpha=alpha)
    treated, control = em.conditions["treated"], em.conditions["control"]
    contrast = ExposureEstimate()
    if treated.n[0] >= 2 and control.n[0] >= 2:
        c = compare_clustered(control, treated, alpha=alpha)
        contrast = ExposureEstimate(
            estimate=c.abs_effect[0],
            se=c.abs_se[0],
            ci_low=c.abs_ci_low[0],
            ci_high=c.abs_ci_high[0],
            p_value=c.p_value[0],
        )
    return ExposureAnalysis(
        metric=name,
        edges=design.edges,
        threshold=design.threshold,
        units=em.exposed,
        units_with_neighbours=em.with_neighbours,
        clusters=fit.clusters,
        direct=_estimate(fit.direct),
        spillover=_estimate(fit.spillover),
        total=_estimate(fit.total),
        contrast=contrast,
        units_mostly_treated=int(treated.sum("den")[0]),
        units_mostly_control=int(control.sum("den")[0]),
        treated_share_mostly_treated=em.treated_share["treated"],
        treated_share_mostly_control=em.treated_share["control"],
    )
