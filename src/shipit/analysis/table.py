"""A per-unit table (one row per unit) analysed through the same core as an experiment.

The engine computes every metric's moments per variant and per segment in one query
(``metrics.table``); the effects, trust checks, guardrails and verdict are then the ones
``analyze`` gives an experiment in the store. A table has no timestamps, so the daily view,
novelty and exposure-time checks say they do not apply instead of pretending.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import ValidationError

from shipit.analysis.checks import power_of_primary, trust_checks
from shipit.analysis.pipeline import _effects, _segment_effects
from shipit.analysis.policy import metric_order, policy_from_spec
from shipit.decide.assemble import assemble
from shipit.errors import DataError, InputError
from shipit.metrics.table import TableMoments, table_moments
from shipit.result.model import Analysis, Effect, SegmentEffect, TrustCheck
from shipit.spec.experiment import Experiment, Variant
from shipit.spec.metric import Aggregate, Covariate, MetricDef
from shipit.spec.plan import AnalysisPlan
from shipit.spec.source import TableSource
from shipit.store.frames import TableRef

__all__ = ["analyze_source", "analyze_table", "table_metrics"]

NO_TIMESTAMPS = "not applicable (no timestamps)"
# Share of units on more than one row at which the duplicate check fails (warns below).
DUPLICATE_FAIL_SHARE = 0.01


def _name(text: str) -> str:
    """A metric name from a column name (letters, digits and underscores)."""
    name = re.sub(r"\W", "_", text)
    return name if re.match(r"^[A-Za-z_]", name) else f"m_{name}"


def _ratio(spec: str | tuple[str, str]) -> tuple[str, str]:
    if isinstance(spec, tuple):
        num, den = spec
    else:
        num, sep, den = spec.partition("/")
        if not sep or not num or not den:
            raise InputError(f"ratio {spec!r}: write it NUMERATOR/DENOMINATOR, e.g. spend/visit")
    return num, den


def table_metrics(
    metrics: Sequence[str],
    ratios: Sequence[str | tuple[str, str]] = (),
    covariates: Sequence[str] = (),
) -> list[MetricDef]:
    """Metric definitions of outcome columns (means; read as proportions when every value
    is 0/1) and ratios NUM/DEN, each adjusted by the covariate columns (CUPED)."""
    covs = tuple(Covariate(name=_name(c), column=c) for c in covariates)
    out = [MetricDef(name=_name(c), column=c, covariates=covs) for c in metrics]
    for r in ratios:
        num, den = _ratio(r)
        out.append(
            MetricDef(
                name=_name(f"{num}_per_{den}"),
                numerator=Aggregate(column=num),
                denominator=Aggregate(column=den),
                covariates=covs,
            )
        )
    names = [m.name for m in out]
    dup = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if dup is not None:
        raise InputError(f"metric {dup!r} is asked for twice")
    if not out:
        raise InputError("name at least one metric: an outcome column or a ratio NUM/DEN")
    return out


def analyze_table(
    ref: TableRef,
    *,
    variant: str,
    metrics: Sequence[str] = (),
    ratios: Sequence[str | tuple[str, str]] = (),
    covariates: Sequence[str] = (),
    segments: Sequence[str] = (),
    control: str | None = None,
    unit: str | None = None,
    srm_threshold: float | None = None,
    plan: AnalysisPlan | None = None,
    key: str = "table",
) -> Analysis:
    """The analysis of a per-unit table read in place: variants are the values of the
    ``variant`` column (planned as an equal split), the control ``control`` or else the
    first in sorted order; the first metric is the primary."""
    defs = table_metrics(metrics, ratios, covariates)
    base = plan or AnalysisPlan()
    update: dict[str, object] = {"segments": tuple(segments)}
    if srm_threshold is not None:
        update["srm_threshold"] = srm_threshold
    try:
        plan = AnalysisPlan.model_validate({**base.model_dump(), **update})
    except ValidationError as exc:
        problem = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InputError(f"analysis plan: {problem}") from exc
    tm = table_moments(
        ref.engine,
        ref.source,
        variant=variant,
        metrics=defs,
        segments=plan.segments,
        unit=unit,
        table=ref.label,
    )
    found = [g.variant for g in tm.overall.groups]
    if len(found) < 2:
        raise DataError(
            f"variant column {variant!r} of {ref.label} has one value ({found[0]!r}): "
            "an experiment compares two variants or more"
        )
    if control is not None and control not in found:
        raise InputError(f"control {control!r} is not a variant of {ref.label}: variants {found}")
    # A mean whose every value is 0 or 1 is a proportion (same moments, its own test).
    defs = [
        m.model_copy(update={"aggregation": "any"})
        if m.column is not None and tm.binary.get(m.name)
        else m
        for m in defs
    ]
    variants = tuple(Variant.model_construct(key=v, weight=1.0 / len(found)) for v in found)
    exp = Experiment(
        key=key,
        variants=variants,
        control=control or found[0],
        metrics=tuple(defs),
        primary_metric=defs[0].name,
        secondary_metrics=tuple(m.name for m in defs[1:]),
        analysis=plan,
        source=TableSource(table=ref.label, variant=variant, unit=unit),
    )
    return _analysis(exp, tm)


def analyze_source(experiment: Experiment, ref: TableRef) -> Analysis:
    """The analysis of an experiment whose spec reads a per-unit table (``source:``)."""
    source = experiment.source
    if source is None:
        raise InputError(f"experiment {experiment.key!r} has no source table")
    defs = experiment.metric_defs()
    tm = table_moments(
        ref.engine,
        ref.source,
        variant=source.variant,
        metrics=[defs[n] for n in metric_order(experiment)],
        segments=experiment.analysis.segments,
        unit=source.unit,
        table=ref.label,
    )
    found = [g.variant for g in tm.overall.groups]
    planned = list(experiment.variant_keys)
    unknown = [v for v in found if v not in planned]
    if unknown:
        raise DataError(
            f"variant column {source.variant!r} of {ref.label} holds {unknown}, which the "
            f"spec does not list (variants {planned})"
        )
    absent = [v for v in planned if v not in found]
    if absent:
        raise DataError(
            f"spec variant(s) {absent} have no rows in {ref.label} "
            f"(column {source.variant!r} holds {found})"
        )
    return _analysis(experiment, tm)


def _analysis(exp: Experiment, tm: TableMoments) -> Analysis:
    """Effects, segments, trust checks and verdict from the table's moments."""
    overall = tm.overall
    defs = exp.metric_defs()
    names = metric_order(exp)
    control = exp.control_variant
    others = [v for v in exp.variant_keys if v != control]
    n = overall.units([g for g in overall.groups if g.segment is None])
    counts = {g.variant: int(x) for g, x in zip(overall.groups, n, strict=True)}
    counts = {v: counts.get(v, 0) for v in exp.variant_keys}
    effects: list[Effect] = []
    for name in names:
        effects += _effects(overall, defs[name], control, others, exp)
    primary = defs[exp.primary_metric or names[0]]
    watched = dict.fromkeys([primary, *(defs[g.metric] for g in exp.guardrails)])
    seg_effects: list[SegmentEffect] = [
        s
        for d, mm in tm.by_segment.items()
        for m in watched
        for s in _segment_effects(mm, d, m, control, others, exp)
    ]
    trust = trust_checks(exp, overall, tm.by_segment, None, counts, effects, seg_effects, None)
    trust = [t for t in trust if t.name not in ("multi_variant_units", "out_of_phase_exposures")]
    trust += _duplicates(exp, tm)
    trust += [
        TrustCheck(name=name, status="pass", message=f"{what}: {NO_TIMESTAMPS}")
        for name, what in (
            ("daily", "daily effects"),
            ("novelty", "novelty"),
            ("exposure_time", "exposure time"),
        )
    ]
    power, power_checks = power_of_primary(exp, overall, None, effects, None)
    return assemble(
        experiment=exp.key,
        control=control,
        variants=list(exp.variant_keys),
        policy=policy_from_spec(exp),
        effects=effects,
        segments=seg_effects,
        trust=[*trust, *power_checks],
        power=power,
        units=counts,
        weights=dict(zip(exp.variant_keys, exp.weights, strict=True)),
    )


def _duplicates(exp: Experiment, tm: TableMoments) -> list[TrustCheck]:
    """Units on more than one row of the table (only with a unit column)."""
    if tm.units is None or exp.source is None:
        return []
    extra = tm.rows - tm.units
    share = extra / tm.rows
    column = exp.source.unit
    if extra == 0:
        return [
            TrustCheck(
                name="duplicate_units",
                status="pass",
                message=f"one row per unit: {tm.units} units in column {column!r}",
            )
        ]
    return [
        TrustCheck(
            name="duplicate_units",
            status="fail" if share >= DUPLICATE_FAIL_SHARE else "warn",
            message=(
                f"{extra} rows ({share:.2%}) repeat a unit of column {column!r}: "
                f"{tm.rows} rows for {tm.units} units; each row is counted as a unit"
            ),
            statistic=float(extra),
        )
    ]
