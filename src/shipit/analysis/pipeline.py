"""``analyze``: one experiment from the store to a verdict (moments → stats → decide).

One ``compute_moments`` query per breakdown (overall, each plan segment, by day; overall
and the first segment share one where its segments partition the units); every
comparison of a breakdown is one vectorized stats call; ``decide.assemble`` adds the
corrections, guardrail lights and the verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import numpy as np

from shipit.analysis.checks import daily_effects, power_of_primary, trust_checks
from shipit.analysis.design_effects import design_effects
from shipit.analysis.effects import RowStats, pair_rows, row_stats
from shipit.analysis.funnels import funnel_steps
from shipit.analysis.guard import check_inputs, guarded, timing_check
from shipit.analysis.policy import direction, metric_order, policy_from_spec
from shipit.analysis.sequential import current_bounds
from shipit.analysis.tables import mapped_tables
from shipit.decide.assemble import assemble
from shipit.decide.build import effects_from_comparison, segment_effects_from_comparison
from shipit.decide.fairness import fairness_check
from shipit.errors import DataError, InputError
from shipit.metrics.kinds import kind_of
from shipit.metrics.run import compute_moments as _compute_moments
from shipit.metrics.run import overall_and_by
from shipit.metrics.summary import GroupKey, MetricMoments
from shipit.result.model import Analysis, Effect, SegmentEffect, SequentialBounds, TrustCheck
from shipit.spec.experiment import Experiment
from shipit.spec.metric import MetricDef
from shipit.spec.plan import AnalysisPlan
from shipit.store.engine import Engine

__all__ = ["analyze", "with_srm_threshold"]


def with_srm_threshold(experiment: Experiment, threshold: float) -> Experiment:
    """The experiment with its plan's SRM threshold replaced (validated: 0 < p < 1)."""
    from pydantic import ValidationError

    try:
        plan = AnalysisPlan.model_validate(
            {**experiment.analysis.model_dump(), "srm_threshold": threshold}
        )
    except ValidationError as exc:
        raise InputError(
            f"srm threshold must be between 0 and 1 (exclusive), got {threshold}"
        ) from exc
    return experiment.model_copy(update={"analysis": plan})


def _analyze_source(experiment: Experiment, engine: Engine) -> Analysis:
    """A spec whose ``source`` is a per-unit table: a data file, or a table of ``engine``."""
    from shipit.analysis.table import analyze_source
    from shipit.store.frames import ENGINE_PREFIX, file_table, is_table_path, store_table

    assert experiment.source is not None
    table = experiment.source.table
    if table.startswith(ENGINE_PREFIX) or not is_table_path(table):
        return analyze_source(experiment, store_table(engine, table))
    ref = file_table(table, engine)
    try:
        return analyze_source(experiment, ref)
    finally:
        if ref.owned:
            ref.engine.close()


def analyze(
    experiment: Experiment,
    engine: Engine,
    *,
    phase: int | None = None,
    phase_start: datetime | None = None,
    true_effects: Mapping[str, float] | None = None,
    true_effects_absolute: Sequence[str] = (),
    segments: Sequence[str] | None = None,
    daily: bool = True,
    planned_units: int | None = None,
    progress: Callable[[str], None] | None = None,
    recorded_looks: Mapping[str, Sequence[float]] | None = None,
    srm_threshold: float | None = None,
    bandit_periods: Sequence[Any] | None = None,
) -> Analysis:
    """The whole analysis of ``experiment`` from the exposures and events in ``engine``.

    ``segments`` overrides the plan's segment attributes; ``planned_units`` (per variant)
    is the sample the plan aimed for, used by the power check; ``progress`` is told each
    step as it starts (the engine queries take minutes at 10M units). ``recorded_looks``
    (per variant) are the information fractions of earlier analyses of this phase, which a
    group-sequential plan counts as looks taken (else the plan's schedule: see
    ``analysis.sequential.looks_taken``). ``srm_threshold`` overrides the plan's
    ``analysis.srm_threshold``. A spec with a ``source`` reads its per-unit table instead
    (a file, or ``engine:NAME`` in ``engine``). A bandit adds its adaptive-aware estimates
    over ``bandit_periods`` (``registry.bandits.BanditPeriod``; default: the spec's weights).
    """
    if srm_threshold is not None:
        experiment = with_srm_threshold(experiment, srm_threshold)
    if experiment.source is not None:
        return _analyze_source(experiment, engine)
    if experiment.type == "interleaving":
        from shipit.analysis.interleaving import analyze_interleaving

        return analyze_interleaving(experiment, engine, phase_start=phase_start)
    if experiment.type == "shadow":
        from shipit.analysis.shadow import analyze_shadow

        return analyze_shadow(experiment, engine, phase=phase, phase_start=phase_start)
    say = progress or (lambda _step: None)
    bandit = None
    if experiment.type == "bandit":
        from shipit.analysis.bandit import attach_bandit, prepare_bandit

        say("bandit moments by allocation period")
        experiment, bandit = prepare_bandit(
            experiment, engine, bandit_periods, phase=phase, phase_start=phase_start
        )
    plan = experiment.analysis
    defs = experiment.metric_defs()
    names = metric_order(experiment)
    metrics = [defs[n] for n in names]
    variants = list(experiment.variant_keys)
    control = experiment.control_variant
    others = [v for v in variants if v != control]
    key = experiment.key
    dims = tuple(plan.segments if segments is None else segments)
    tables = mapped_tables(experiment, engine) or None
    check_inputs(key, variants, metrics, engine, phase=phase, segments=dims, tables=tables)
    compute_moments = guarded(partial(_compute_moments, tables=tables), metrics)
    by_segment: dict[str, MetricMoments] = {}
    if dims:
        # One pass for both where the segments partition the units (metrics.run).
        say(f"moments overall and by {dims[0]}")
        both = guarded(partial(overall_and_by, tables=tables), metrics)
        overall, by_segment[dims[0]] = both(
            engine, key, phase, variants, metrics, dims[0], phase_start=phase_start
        )
    else:
        say("moments overall")
        overall = compute_moments(engine, key, phase, variants, metrics, phase_start=phase_start)
    counts = {v: int(n) for v, n in zip(variants, _n(overall, variants), strict=True)}
    if sum(counts.values()) == 0:
        raise DataError(
            f"experiment {key!r} has no exposures in the store"
            + (f" for phase {phase}" if phase is not None else "")
        )
    effects: list[Effect] = []
    for metric in metrics:
        effects += _effects(overall, metric, control, others, experiment, recorded_looks)
    # A randomization design (spec ``design:``): the effects the verdict reads use its variance.
    designed = design_effects(
        experiment,
        engine,
        metrics,
        effects,
        phase=phase,
        phase_start=phase_start,
        tables=tables,
        recorded_looks=recorded_looks,
    )
    effects = designed.effects if designed is not None else effects
    for d in dims[1:]:
        say(f"moments by {d}")
        by_segment[d] = compute_moments(
            engine, key, phase, variants, metrics, by=d, phase_start=phase_start
        )
    primary = defs[experiment.primary_metric or names[0]]
    # The primary per segment, and the guardrails beside it: a segment ship checks its own.
    by_segment_metrics = [primary, *(defs[g.metric] for g in experiment.guardrails)]
    seg_effects = [
        s
        for d, mm in by_segment.items()
        for m in dict.fromkeys(by_segment_metrics)
        for s in _segment_effects(mm, d, m, control, others, experiment)
    ]
    if daily:
        say("moments by day")
    # By day only the primary is read (its cumulative effect, novelty; units for SRM by day).
    by_day = (
        compute_moments(
            engine,
            key,
            phase,
            variants,
            [primary],
            by="day",
            phase_start=phase_start,
            cap_values=overall.caps,
        )
        if daily
        else None
    )
    say("statistics, checks and verdict")
    days, novelty = daily_effects(by_day, primary, control, others, experiment)
    trust = trust_checks(
        experiment,
        overall,
        by_segment,
        by_day,
        counts,
        effects,
        seg_effects,
        novelty,
    )
    timing = timing_check(key, metrics, engine, phase=phase, tables=tables)
    if timing is not None:
        trust.append(timing)
    trust += _fairness(
        compute_moments, engine, experiment, by_segment, primary, effects, phase, phase_start, say
    )
    policy = policy_from_spec(experiment)
    power, power_checks = power_of_primary(experiment, overall, by_day, effects, planned_units)
    result = assemble(
        experiment=key,
        control=control,
        variants=variants,
        policy=policy,
        effects=effects,
        segments=seg_effects,
        daily=days,
        trust=[*trust, *power_checks],
        power=power,
        units=counts,
        weights=dict(zip(variants, experiment.weights, strict=True)),
        true_effects=true_effects,
        true_effects_absolute=true_effects_absolute,
    )
    if designed is not None:
        result = result.model_copy(update={"design": designed.info})
    steps = funnel_steps(overall, metrics, variants, plan.alpha)
    if bandit is not None:
        result = attach_bandit(result, bandit)
    return result.model_copy(update={"funnel_steps": tuple(steps)}) if steps else result


def _fairness(
    compute_moments: Callable[..., MetricMoments],
    engine: Engine,
    exp: Experiment,
    by_segment: Mapping[str, MetricMoments],
    primary: MetricDef,
    effects: Sequence[Effect],
    phase: int | None,
    phase_start: datetime | None,
    say: Callable[[str], None],
) -> list[TrustCheck]:
    """The fairness check of every protected attribute of the plan, per treatment."""
    control = exp.control_variant
    others = [v for v in exp.variant_keys if v != control]
    out = []
    for attr in exp.analysis.fairness:
        mm = by_segment.get(attr)
        if mm is None:
            say(f"moments by {attr} (fairness)")
            mm = compute_moments(
                engine,
                exp.key,
                phase,
                list(exp.variant_keys),
                [primary],
                by=attr,
                phase_start=phase_start,
            )
        groups = _segment_effects(mm, attr, primary, control, others, exp)
        for k, v in enumerate(others):
            pooled = next(e for e in effects if e.metric == primary.name and e.variant == v)
            name = f"fairness_{attr}" + (f"_{v}" if k else "")
            out.append(fairness_check(attr, groups, pooled, alpha=exp.analysis.alpha, name=name))
    return out


def _n(mm: MetricMoments, variants: Sequence[str]) -> np.ndarray:
    return mm.units([GroupKey(v) for v in variants])


def _effects(
    mm: MetricMoments,
    metric: MetricDef,
    control: str,
    others: list[str],
    exp: Experiment,
    recorded: Mapping[str, Sequence[float]] | None = None,
) -> list[Effect]:
    """One effect per variant of one metric: raw, CUPED, posterior, sequential."""
    c, v = pair_rows(mm, metric, [GroupKey(control)] * len(others), [GroupKey(x) for x in others])
    hib = direction(exp, metric)
    rs = row_stats(c, v, metric, exp.analysis, higher_is_better=hib)
    looks = [recorded.get(x, ()) for x in others] if recorded is not None else None
    seq = _overall_sequential(rs, exp, looks) if exp.analysis.method == "sequential" else None
    post = rs.posterior
    k = len(others)
    return effects_from_comparison(
        rs.raw,
        metrics=[metric.name] * k,
        variants=others,
        control=control,
        kinds=[kind_of(metric).name] * k,
        higher_is_better=[hib] * k,
        adjusted=rs.adjusted,
        prob_better=list(post.prob_better) if post is not None else None,
        expected_loss=list(post.expected_loss_variant) if post is not None else None,
        sequential=seq,
        cuped=rs.cuped,
        covariates=[c.column or c.name for c in metric.covariates],
        rank=rs.rank,
        bootstrap_p_value=(
            list(rs.bootstrap_p_value) if rs.bootstrap_p_value is not None else None
        ),
    )


def _overall_sequential(
    rs: RowStats, exp: Experiment, recorded: Sequence[Sequence[float]] | None = None
) -> list[SequentialBounds]:
    """Each variant's bounds at its current look (``recorded[i]``: row i's earlier looks)."""
    best = rs.best
    # Each treatment's boundary at the plan's correction across treatments (Bonferroni α/k).
    alpha = policy_from_spec(exp).comparison_alpha(len(best))
    plan = exp.analysis.model_copy(update={"alpha": alpha})
    b = current_bounds(
        best.rel_effect,
        best.rel_se,
        best.n_control,
        best.n_variant,
        plan,
        recorded=recorded,
    )
    return [
        SequentialBounds(
            lower=b.low[i],
            upper=b.high[i],
            statistic=b.statistic[i],
            information_fraction=b.fraction[i],
            crossed=b.crossed[i],  # type: ignore[arg-type]
        )
        for i in range(len(best))
    ]


def _segment_effects(
    mm: MetricMoments,
    dimension: str,
    metric: MetricDef,
    control: str,
    others: list[str],
    exp: Experiment,
) -> list[SegmentEffect]:
    """Per-segment effects of the primary, CUPED within each segment when it applies."""
    pairs = [(s, v) for v in others for s in mm.segments]
    if not pairs:
        return []
    c, v = pair_rows(
        mm,
        metric,
        [GroupKey(control, segment=s) for s, _ in pairs],
        [GroupKey(x, segment=s) for s, x in pairs],
    )
    rs = row_stats(c, v, metric, exp.analysis, higher_is_better=direction(exp, metric), bayes=False)
    return segment_effects_from_comparison(
        rs.best,
        dimension=dimension,
        segments=[s for s, _ in pairs],
        metric=metric.name,
        variant=[x for _, x in pairs],
        raw=rs.raw if rs.adjusted is not None else None,
    )
