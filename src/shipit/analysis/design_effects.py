"""The effects the verdict reads, under the variance the spec's design calls for.

``analyze`` computes every effect at the unit level first; when the experiment names a
design (``Experiment.design``) this module replaces the overall effects by the design's:

- cluster: the cluster is the unit of analysis; each arm's mean is a ratio of cluster
  totals whose variance is the delta method over clusters (moments over clusters summed
  in the engine, ``metrics.clusters``);
- switchback: the (region, interval) block is the unit, the burn-in of each interval left
  out (``analysis.switchback``);
- ego clusters of a graph: cluster-robust over the ego clusters, and the exposure
  analysis (``analysis.interference``): direct and spillover effects;
- stratified and blocked: the stratified estimator, within strata (stratified by its
  attribute; blocked by the ``block`` attribute the assignment stores with the exposures).

The unit-level standard errors stay in the result's ``design`` block beside the design's,
so the report can say how far a naive analysis would have been off. CUPED is not applied
on top of a design's variance: the design's estimate is the one acted on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from shipit.analysis.policy import direction, policy_from_spec
from shipit.analysis.sequential import current_bounds
from shipit.decide.build import effects_from_comparison
from shipit.errors import DataError, InputError
from shipit.metrics.clusters import cluster_moments
from shipit.metrics.kinds import kind_of
from shipit.metrics.run import compute_moments
from shipit.metrics.summary import GroupKey
from shipit.result.design import DesignComparison, DesignInfo
from shipit.result.model import Effect, SequentialBounds
from shipit.spec.design import (
    BlockedDesign,
    ClusterDesign,
    EgoClusterDesign,
    StratifiedDesign,
    SwitchbackDesign,
)
from shipit.spec.experiment import Experiment
from shipit.spec.metric import MetricDef
from shipit.stats.bayesian import NormalPrior, compare_normal
from shipit.stats.clustered import compare_clustered
from shipit.stats.estimands import Effect as StatsEffect
from shipit.stats.estimands import GroupStats
from shipit.stats.moments import Moments
from shipit.stats.results import ComparisonResult
from shipit.stats.stratified import compare_stratified_result
from shipit.store.engine import Engine

__all__ = ["DesignedEffects", "design_effects"]


@dataclass(frozen=True)
class DesignedEffects:
    """The overall effects under the design's variance, and the design block."""

    effects: list[Effect]
    info: DesignInfo


@dataclass(frozen=True)
class _Context:
    experiment: Experiment
    engine: Engine
    phase: int | None
    phase_start: datetime | None
    tables: Mapping[str, str] | None

    @property
    def variants(self) -> list[str]:
        return list(self.experiment.variant_keys)

    @property
    def control(self) -> str:
        return self.experiment.control_variant

    @property
    def others(self) -> list[str]:
        return [v for v in self.variants if v != self.control]


def design_effects(
    experiment: Experiment,
    engine: Engine,
    metrics: Sequence[MetricDef],
    naive: Sequence[Effect],
    *,
    phase: int | None = None,
    phase_start: datetime | None = None,
    tables: Mapping[str, str] | None = None,
    recorded_looks: Mapping[str, Sequence[float]] | None = None,
) -> DesignedEffects | None:
    """The design's effects of ``metrics`` (None when the experiment has no design).

    ``naive`` are the unit-level effects of the same metrics, kept for their standard
    errors and unit counts."""
    design = experiment.design
    if design is None or experiment.type != "ab":
        return None
    ctx = _Context(experiment, engine, phase, phase_start, tables)
    kept = [m for m in metrics if not _supported(design, m)]
    metrics = [m for m in metrics if _supported(design, m)]
    if not metrics:
        return None
    if isinstance(design, ClusterDesign):
        rows, info = _cluster(ctx, design.by, metrics)
    elif isinstance(design, EgoClusterDesign):
        from shipit.analysis.interference import analyze_exposure

        rows, info = _cluster(ctx, design.by, metrics)
        info = info.model_copy(update={"kind": "ego_cluster"})
        try:
            exposure = analyze_exposure(
                engine, experiment, phase=phase, phase_start=phase_start, tables=tables
            )
        except (InputError, DataError) as err:  # the effects stand without it
            info = info.model_copy(update={"notes": (f"no exposure analysis: {err}",)})
        else:
            info = info.model_copy(update={"exposure": exposure})
    elif isinstance(design, SwitchbackDesign):
        rows, info = _switchback(ctx, design, metrics)
    elif isinstance(design, (StratifiedDesign, BlockedDesign)):
        rows, info = _stratified(ctx, design, metrics)
    else:
        return None
    naive_of = {(e.metric, e.variant): e for e in naive}
    effects: list[Effect] = []
    comparisons: list[DesignComparison] = []
    for m in metrics:
        result = rows[m.name]
        built = _effects(ctx, m, result, recorded_looks)
        for i, e in enumerate(built):
            plain = naive_of.get((m.name, e.variant))
            if plain is not None and info.unit_of_analysis == "cluster":
                # n counts units everywhere in the result; clusters are in the design block.
                e = e.model_copy(
                    update={"n_control": plain.n_control, "n_variant": plain.n_variant}
                )
            effects.append(e)
            se = float(result.abs_se[i])
            naive_se = plain.raw.abs_se if plain is not None else None
            comparisons.append(
                DesignComparison(
                    metric=m.name,
                    variant=e.variant,
                    se=se,
                    naive_se=naive_se,
                    design_effect=(se / naive_se) ** 2 if naive_se else None,
                    naive_p_value=plain.raw.p_value if plain is not None else None,
                )
            )
    mine = {(e.metric, e.variant): e for e in effects}
    merged = [mine.get((e.metric, e.variant), e) for e in naive]
    notes = info.notes + tuple(
        f"{m.name}: a {kind_of(m).name} metric, analysed at the unit level (the "
        f"{design.kind} variance covers {', '.join(_KINDS[design.kind])} metrics)"
        for m in kept
    )
    notes += (
        "segments, the effect over time and the power check are unit-level breakdowns; the "
        "overall effects above use the design's variance",
    )
    update = {"comparisons": tuple(comparisons), "notes": notes}
    return DesignedEffects(merged, info.model_copy(update=update))


_MOMENT_KINDS = ("mean", "proportion", "ratio")
_KINDS = {
    "cluster": _MOMENT_KINDS,
    "ego_cluster": _MOMENT_KINDS,
    "stratified": _MOMENT_KINDS,
    "blocked": _MOMENT_KINDS,
    "switchback": ("count", "sum"),
}


def _supported(design: object, m: MetricDef) -> bool:
    """Whether the design's variance is written for this metric."""
    if isinstance(design, SwitchbackDesign):
        return m.event is not None and m.aggregation in ("sum", "count") and not m.where
    return kind_of(m).name in _MOMENT_KINDS


def _effects(
    ctx: _Context,
    metric: MetricDef,
    result: ComparisonResult,
    recorded: Mapping[str, Sequence[float]] | None,
) -> list[Effect]:
    """Effect rows from one metric's design comparison (one row per treatment)."""
    exp, plan = ctx.experiment, ctx.experiment.analysis
    hib = direction(exp, metric)
    k = len(ctx.others)
    prob = loss = None
    if plan.method == "bayesian":
        prior = plan.bayesian.prior
        normal = (
            NormalPrior(mean=prior.mean, sd=prior.sd)
            if prior.kind == "normal" and prior.sd is not None
            else NormalPrior()
        )
        groups = GroupStats(result.n_control, result.mean_control, result.abs_se, result.abs_se)
        post = compare_normal(
            groups,
            groups,
            prior=normal,
            scale="relative",
            level=1.0 - plan.alpha,
            higher_is_better=hib,
            effect=StatsEffect(result.rel_effect, result.rel_se),
        )
        prob, loss = list(post.prob_better), list(post.expected_loss_variant)
    seq = None
    if plan.method == "sequential":
        alpha = policy_from_spec(exp).comparison_alpha(k)
        looks = [recorded.get(x, ()) for x in ctx.others] if recorded is not None else None
        b = current_bounds(
            result.rel_effect,
            result.rel_se,
            result.n_control,
            result.n_variant,
            plan.model_copy(update={"alpha": alpha}),
            recorded=looks,
        )
        seq = [
            SequentialBounds(
                lower=b.low[i],
                upper=b.high[i],
                statistic=b.statistic[i],
                information_fraction=b.fraction[i],
                crossed=b.crossed[i],  # type: ignore[arg-type]
            )
            for i in range(k)
        ]
    return effects_from_comparison(
        result,
        metrics=[metric.name] * k,
        variants=ctx.others,
        control=ctx.control,
        kinds=[kind_of(metric).name] * k,
        higher_is_better=[hib] * k,
        prob_better=prob,
        expected_loss=loss,
        sequential=seq,
    )


def _cluster_pairs(ctx: _Context, moments: Moments) -> ComparisonResult:
    """Every treatment against control, rows of cluster-total moments labelled by variant."""
    c = moments.labels.index(ctx.control)
    idx = [moments.labels.index(v) for v in ctx.others]
    plan = ctx.experiment.analysis
    control = moments.take([c])  # one treatment at a time: group labels stay distinct
    return _stack(
        [
            compare_clustered(
                control, moments.take([i]), alpha=plan.alpha, alternative=plan.alternative
            )
            for i in idx
        ]
    )


def _cluster(
    ctx: _Context, by: str, metrics: Sequence[MetricDef]
) -> tuple[dict[str, ComparisonResult], DesignInfo]:
    cm = cluster_moments(
        ctx.engine,
        ctx.experiment.key,
        ctx.phase,
        ctx.variants,
        metrics,
        by,
        phase_start=ctx.phase_start,
        tables=ctx.tables,
    )
    rows = {m.name: _cluster_pairs(ctx, cm.metrics[m.name]) for m in metrics}
    info = DesignInfo(
        kind="cluster",
        unit_of_analysis="cluster",
        variance="cluster-robust: delta method on cluster totals",
        by=(by,),
        clusters=dict(cm.clusters),
    )
    return rows, info


def _switchback(
    ctx: _Context, design: SwitchbackDesign, metrics: Sequence[MetricDef]
) -> tuple[dict[str, ComparisonResult], DesignInfo]:
    from shipit.analysis.switchback import analyze_switchback, switchback_end

    exp = ctx.experiment
    end = switchback_end(ctx.engine, exp, ctx.tables)
    found = analyze_switchback(
        ctx.engine, exp, end, metrics=[m.name for m in metrics], since=ctx.phase_start
    )
    rows: dict[str, ComparisonResult] = {}
    blocks: dict[str, int] = {}
    for m in metrics:
        mine = [e for e in found if e.metric == m.name]
        rows[m.name] = _stack([e.result for e in mine])
        blocks = {ctx.control: mine[0].blocks_control} | {e.variant: e.blocks_variant for e in mine}
    info = DesignInfo(
        kind="switchback",
        unit_of_analysis="block",
        variance="time blocks (region × interval) as units, burn-in excluded",
        by=(design.by,) if design.by else (),
        blocks=blocks,
        interval_hours=design.interval_hours,
        burn_in_minutes=design.burn_in_minutes,
        notes=(
            "effects compare the metric's total per block after the burn-in; complete "
            f"intervals up to {end.isoformat(sep=' ', timespec='seconds')}"
            + (" from the phase's start" if ctx.phase_start is not None else ""),
        ),
    )
    return rows, info


def _stack(results: Sequence[ComparisonResult]) -> ComparisonResult:
    """One-row comparisons stacked into one (same fields, rows in order)."""
    from dataclasses import fields

    first = results[0]
    return type(first)(
        **{
            f.name: np.concatenate([np.asarray(getattr(r, f.name)) for r in results])
            for f in fields(first)
        }
    )


def _stratified(
    ctx: _Context, design: StratifiedDesign | BlockedDesign, metrics: Sequence[MetricDef]
) -> tuple[dict[str, ComparisonResult], DesignInfo]:
    if isinstance(design, StratifiedDesign):
        if len(design.by) != 1:
            raise InputError(
                f"design.by {list(design.by)}: the analysis reads one stratum attribute; store "
                "their combination as one column of the exposures and name it"
            )
        by = design.by[0]
    else:
        by = "block"
    summary = compute_moments(
        ctx.engine,
        ctx.experiment.key,
        ctx.phase,
        ctx.variants,
        metrics,
        by=by,
        phase_start=ctx.phase_start,
        tables=ctx.tables,
    )
    strata = list(summary.segments)
    plan = ctx.experiment.analysis
    rows = {}
    for m in metrics:
        cells = summary.moments(m.name)
        kind = kind_of(m).name

        def arm(variant: str, cells: Moments = cells) -> Moments:
            keys = [GroupKey(variant, s) for s in strata]
            return cells.take(summary.rows(keys)).rename(strata)

        rows[m.name] = _stack(
            [
                compare_stratified_result(
                    arm(ctx.control), arm(v), kind, alpha=plan.alpha, alternative=plan.alternative
                )
                for v in ctx.others
            ]
        )
    info = DesignInfo(
        kind=design.kind,
        unit_of_analysis="unit",
        variance="stratified: within-stratum differences weighted by stratum size",
        by=(by,),
        strata=len(strata),
    )
    return rows, info
