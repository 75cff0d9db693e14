"""``analyze_shadow``: a shadow experiment from the store to its ``ShadowResult``.

The engine returns unit-level moments (``shipit.store.shadow``); here they become
estimates with intervals: a mean over requests is the ratio ΣS/ΣN of unit sums with the
delta-method standard error (``ratio_sigma``, shared with the quantile metrics), and a
latency quantile gets the quantile metrics' interval, the sample quantiles at p ∓ z·σ.
Nothing is served by the candidate, so the verdict is always ``iterate``: a shadow run
informs the next experiment, it does not ship one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from shipit.errors import DataError
from shipit.metrics.kinds.quantile import ratio_sigma
from shipit.result import format as fmt
from shipit.result.model import Analysis, Decision, Verdict
from shipit.result.shadow import (
    ShadowDisagreement,
    ShadowDistribution,
    ShadowEstimate,
    ShadowLatency,
    ShadowMetric,
    ShadowQuantile,
    ShadowResult,
)
from shipit.spec.experiment import Experiment
from shipit.spec.shadow import ShadowSpec, roles
from shipit.stats.normal import normal_ppf, normal_sf
from shipit.store.engine import Engine
from shipit.store.shadow import ShadowQuery, ValueMoments
from shipit.store.tables import SHADOW

__all__ = [
    "DIFFERENCE_QUANTILES",
    "analyze_shadow",
    "bound_probabilities",
    "ratio_estimate",
    "shadow_query",
    "shadow_result",
]

DIFFERENCE_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
HIGHER_IS_BETTER = {"accuracy": True, "hit_rate": True, "mse": False, "log_loss": False}


def ratio_estimate(m: ValueMoments, z: float) -> ShadowEstimate:
    """The mean over requests ΣS/ΣN with its delta-method interval (± z·σ)."""
    if m.c <= 0:
        return ShadowEstimate(units=int(m.n), requests=int(m.c))
    sigma = ratio_sigma(*(np.array([x]) for x in (m.n, m.s, m.c, m.s_s, m.s_c, m.c_c)))
    se = float(sigma[0]) if m.n >= 2 else float("nan")
    est = m.s / m.c
    return ShadowEstimate(
        estimate=est,
        se=se,
        ci_low=est - z * se,
        ci_high=est + z * se,
        units=int(m.n),
        requests=int(m.c),
    )


def bound_probabilities(q: float, m: ValueMoments, z: float) -> tuple[float, float]:
    """The probabilities p ∓ z·σ whose sample quantiles bound quantile ``q``: σ is the
    delta-method standard error of F̂(q̂) = ΣS/ΣN, S_i the unit's requests ≤ q̂ (``m``)."""
    sigma = ratio_sigma(*(np.array([x]) for x in (m.n, m.s, m.c, m.s_s, m.s_c, m.c_c)))[0]
    sigma = float(sigma) if m.n >= 2 and np.isfinite(sigma) else 0.0
    return float(np.clip(q - z * sigma, 0.0, 1.0)), float(np.clip(q + z * sigma, 0.0, 1.0))


def shadow_query(
    experiment: Experiment,
    engine: Engine,
    *,
    phase: int | None = None,
    phase_start: datetime | None = None,
) -> tuple[ShadowQuery, list[str]]:
    """The query of ``experiment``'s summaries, and notes on what it must leave out."""
    block = experiment.shadow
    assert block is not None
    notes: list[str] = []
    metrics = block.offline_metrics()
    label = block.label
    if label is not None and metrics:
        have = engine.columns("events") or {}
        needed = [label.request_property] + ([label.property] if label.property else [])
        missing = [c for c in needed if c not in have]
        if missing:
            notes.append(
                f"no offline metrics: the events table has no column {missing[0]!r} "
                f"(label events {label.event!r} carry it as a property)"
            )
            metrics = ()
    query = ShadowQuery(
        experiment=experiment.key,
        output=block.output,
        tolerance=block.tolerance,
        threshold=block.threshold,
        top_k=block.top_k,
        min_overlap=block.min_overlap,
        label_event=label.event if label else None,
        label_property=label.property if label else None,
        request_property=label.request_property if label else "request_id",
        metrics=tuple(metrics),
        phase=phase,
        since=phase_start,
        dialect=engine.dialect,
    )
    return query, notes


def _latency(
    query: ShadowQuery, engine: Engine, quantiles: Sequence[float], z: float, variants: list[str]
) -> list[ShadowLatency]:
    """Both models' latency quantiles, each with its interval (quantile metrics' method)."""
    raw = query.latency(engine, quantiles)
    out = []
    for k, (col, model) in enumerate((("pm", "production"), ("cm", "candidate"))):
        n, c, c_c = raw[f"{col}__n"], raw[f"{col}__c"], raw[f"{col}__c_c"]
        if c <= 0:
            out.append(ShadowLatency(model=model, variant=variants[k]))
            continue
        probs_low, probs_high, est = [], [], []
        for i, q in enumerate(quantiles):
            key = f"{col}{i}"
            s, s_s, s_c = raw[f"{key}__s"], raw[f"{key}__s_s"], raw[f"{key}__s_c"]
            m = ValueMoments(key, n, s, c, s_s, s_c, c_c)
            low, high = bound_probabilities(q, m, z)
            probs_low.append(low)
            probs_high.append(high)
            est.append(raw["qhat"].get(f"{col}{i}"))
        bounds = query.quantiles_at(engine, col, [*probs_low, *probs_high])
        k_q = len(quantiles)
        out.append(
            ShadowLatency(
                model=model,
                variant=variants[k],
                requests=int(c),
                quantiles=tuple(
                    ShadowQuantile(q=q, estimate=est[i], ci_low=bounds[i], ci_high=bounds[k_q + i])
                    for i, q in enumerate(quantiles)
                ),
            )
        )
    return out


def _rule(block: ShadowSpec) -> str:
    if block.output == "score":
        return f"|candidate − production| ≤ {fmt.num(block.tolerance)}"
    if block.output == "label":
        return "the labels are equal"
    return f"top {block.top_k} items overlap ≥ {fmt.share(block.min_overlap)}"


def shadow_result(
    experiment: Experiment,
    engine: Engine,
    *,
    phase: int | None = None,
    phase_start: datetime | None = None,
) -> tuple[ShadowResult, list[str]]:
    """The shadow run's numbers from the store, and the notes of what was left out."""
    block = experiment.shadow
    assert block is not None
    if engine.columns(SHADOW.name) is None:
        raise DataError(
            f"experiment {experiment.key!r} has no shadow predictions in the store: log them "
            "with ShipitClient.shadow or POST /v1/shadow"
        )
    production, candidate = roles(experiment)
    query, notes = shadow_query(experiment, engine, phase=phase, phase_start=phase_start)
    counts = query.counts(engine)
    if counts["requests"] == 0:
        raise DataError(
            f"experiment {experiment.key!r} has no shadow predictions in the store"
            + (f" for phase {phase}" if phase is not None else "")
        )
    level = 1.0 - experiment.analysis.alpha
    z = normal_ppf(0.5 + level / 2.0)
    moments = {m.name: m for m in query.moments(engine)}
    distribution = None
    diff = query.distribution(engine, DIFFERENCE_QUANTILES, block.histogram_bins)
    if diff is not None and "difference" in moments:
        measure = (
            "candidate − production score"
            if block.output == "score"
            else f"overlap of the top {block.top_k} items"
        )
        distribution = ShadowDistribution(
            measure=measure,
            mean=ratio_estimate(moments["difference"], z),
            minimum=diff["min"],
            maximum=diff["max"],
            quantiles=tuple(
                ShadowQuantile(q=q, estimate=v)
                for q, v in zip(DIFFERENCE_QUANTILES, diff["quantiles"], strict=False)
            ),
            edges=tuple(diff["edges"]),
            counts=tuple(diff["counts"]),
        )
    offline = []
    for metric in query.metrics:
        paired = ratio_estimate(moments[f"paired_{metric}"], z)
        p_value = None
        if paired.se and paired.estimate is not None and paired.se > 0:
            p_value = float(2.0 * normal_sf(abs(paired.estimate / paired.se)))
        offline.append(
            ShadowMetric(
                metric=metric,
                higher_is_better=HIGHER_IS_BETTER[metric],
                production=ratio_estimate(moments[f"production_{metric}"], z),
                candidate=ratio_estimate(moments[f"candidate_{metric}"], z),
                difference=paired,
                p_value=p_value,
            )
        )
    disagreements = (
        [ShadowDisagreement(**row) for row in query.disagreements(engine)]
        if block.output == "label"
        else []
    )
    if block.label is not None and query.metrics and counts["labelled"] == 0:
        notes.append(f"no request has a label yet (event {block.label.event!r})")
    result = ShadowResult(
        production=production,
        candidate=candidate,
        output=block.output,
        rule=_rule(block),
        level=level,
        requests=counts["requests"],
        units=counts["units"],
        paired=counts["paired"],
        labelled=counts["labelled"],
        agreement=ratio_estimate(moments["agree"], z),
        difference=distribution,
        latency=tuple(_latency(query, engine, block.latency_quantiles, z, [production, candidate])),
        offline=tuple(offline),
        disagreements=tuple(disagreements),
    )
    return result, notes


def _reasons(r: ShadowResult) -> tuple[str, ...]:
    a = r.agreement
    lines = [
        f"shadow run: {r.candidate} was logged beside {r.production} on {r.paired:,} requests "
        f"and never served",
        f"agreement ({r.rule}): {fmt.estimate(a.estimate, a.ci_low, a.ci_high, fmt.share)}",
    ]
    for m in r.offline:
        d = m.difference
        lines.append(
            f"{m.metric}: {r.candidate} {fmt.num(m.candidate.estimate)} vs {r.production} "
            f"{fmt.num(m.production.estimate)}, difference "
            f"{fmt.estimate(d.estimate, d.ci_low, d.ci_high, fmt.signed)}"
        )
    return tuple(lines)


def analyze_shadow(
    experiment: Experiment,
    engine: Engine,
    *,
    phase: int | None = None,
    phase_start: datetime | None = None,
) -> Analysis:
    """The analysis of a shadow experiment: ``Analysis.shadow`` holds its numbers."""
    result, notes = shadow_result(experiment, engine, phase=phase, phase_start=phase_start)
    return Analysis(
        experiment=experiment.key,
        alpha=experiment.analysis.alpha,
        control=result.production,
        variants=(result.production, result.candidate),
        primary="agreement",
        units={result.production: result.units},
        weights={result.production: 1.0, result.candidate: 0.0},
        verdict=Verdict(
            decision=Decision.ITERATE, variant=result.candidate, reasons=_reasons(result)
        ),
        notes=tuple(notes),
        shadow=result,
    )
