"""Analysis of an interleaving experiment from the store: the preference between its two
rankers, its test, and the sessions an A/B test would need for the same difference.

The engine counts the credited clicks of every session and returns sums
(``metrics.interleaving``); ``stats.interleaving`` turns them into the preference share,
its exact interval and sign test, the unit-clustered interval and the sessions needed.
The verdict: ship the variant when the sessions prefer it significantly, kill it when they
prefer the control significantly, iterate otherwise.
"""

from __future__ import annotations

from datetime import datetime

from shipit.metrics.interleaving import interleaving_counts
from shipit.result import format as fmt
from shipit.result.interleaving import InterleavingResult
from shipit.result.model import Analysis, TrustCheck, Verdict
from shipit.spec.decision import Decision
from shipit.spec.experiment import Experiment
from shipit.stats.interleaving import PreferenceEstimate, preference, sessions_needed
from shipit.store.engine import Engine

__all__ = ["analyze_interleaving", "interleaving_result"]


def interleaving_result(
    experiment: Experiment, engine: Engine, *, phase_start: datetime | None = None
) -> tuple[InterleavingResult, PreferenceEstimate]:
    """The interleaving block of the analysis, and the estimate it was written from."""
    block = experiment.interleaving
    assert block is not None
    alpha = experiment.analysis.alpha
    control = experiment.control_variant
    variant = next(k for k in experiment.variant_keys if k != control)
    counts = interleaving_counts(experiment, engine, phase_start=phase_start)
    est = preference(counts.sessions, alpha=alpha, units=counts.units)
    need = sessions_needed(counts.sessions, alpha=alpha, power=block.power)
    result = InterleavingResult(
        method=block.method,
        control=control,
        variant=variant,
        click_event=block.click_event,
        credit=block.credit.count,
        max_position=block.credit.max_position,
        click_window_minutes=block.click_window_minutes,
        sessions=est.sessions,
        units=counts.units.units,
        decisive=est.decisive,
        wins_control=est.wins_a,
        wins_variant=est.wins_b,
        ties=est.ties,
        preference=est.share_b,
        ci_low=est.ci_low,
        ci_high=est.ci_high,
        p_value=est.p_value,
        unit_ci_low=est.unit_ci_low,
        unit_ci_high=est.unit_ci_high,
        delta=est.delta,
        impressions=counts.impressions,
        clicks_matched=counts.clicks_matched,
        clicks_unmatched=counts.clicks_unmatched,
        unknown_rankers=counts.unknown_rankers,
        clicks_outside_window=counts.clicks_outside_window,
        power=block.power,
        sessions_needed=need.interleaving,
        ab_sessions_needed=need.ab,
        ab_ratio=need.ratio,
    )
    return result, est


def _verdict(r: InterleavingResult, alpha: float) -> Verdict:
    share = (
        f"{fmt.share(r.preference)} of {fmt.count(r.decisive)} decisive sessions prefer "
        f"{r.variant} ({fmt.share(r.ci_low)} to {fmt.share(r.ci_high)}, sign test p = "
        f"{fmt.p_value(r.p_value)})"
    )
    significant = r.p_value is not None and r.p_value < alpha and r.preference is not None
    if significant and r.preference is not None and r.preference > 0.5:
        return Verdict(decision=Decision.SHIP, variant=r.variant, reasons=(share,))
    if significant:
        return Verdict(
            decision=Decision.KILL,
            variant=r.variant,
            reasons=(f"{share}: the sessions prefer {r.control}",),
        )
    more = (
        f"; about {fmt.count(r.sessions_needed)} sessions would detect a preference this large"
        if r.sessions_needed is not None
        else ""
    )
    return Verdict(
        decision=Decision.ITERATE,
        variant=r.variant,
        reasons=(f"{share}: no significant preference yet{more}",),
    )


def _checks(r: InterleavingResult) -> list[TrustCheck]:
    out = []
    if r.unknown_rankers:
        out.append(
            TrustCheck(
                name="interleaving_rankers",
                status="fail",
                message=f"{fmt.count(r.unknown_rankers)} impressions name a ranker that is "
                f"neither {r.control} nor {r.variant}; they credit no one",
            )
        )
    if r.clicks_unmatched:
        out.append(
            TrustCheck(
                name="interleaving_clicks",
                status="warn",
                message=f"{fmt.count(r.clicks_unmatched)} {r.click_event} events name an "
                "item that was not shown in their session; they credit no one",
            )
        )
    if r.clicks_outside_window:
        out.append(
            TrustCheck(
                name="interleaving_click_window",
                status="warn",
                message=f"{fmt.count(r.clicks_outside_window)} {r.click_event} events on shown "
                "items are stamped before their impression or more than "
                f"{r.click_window_minutes} minutes after it; they credit no one",
            )
        )
    if not out:
        out.append(
            TrustCheck(
                name="interleaving_clicks",
                status="pass",
                message=f"every impression names a ranker and every {r.click_event} of an "
                f"interleaved session names an item shown in it, within "
                f"{r.click_window_minutes} minutes of its impression",
            )
        )
    return out


def analyze_interleaving(
    experiment: Experiment, engine: Engine, *, phase_start: datetime | None = None
) -> Analysis:
    """The whole analysis of an interleaving experiment from the impressions and clicks in
    ``engine`` (since ``phase_start`` when given)."""
    result, _ = interleaving_result(experiment, engine, phase_start=phase_start)
    alpha = experiment.analysis.alpha
    return Analysis(
        experiment=experiment.key,
        alpha=alpha,
        control=result.control,
        variants=experiment.variant_keys,
        primary=f"preference ({result.click_event})",
        trust=tuple(_checks(result)),
        verdict=_verdict(result, alpha),
        interleaving=result,
        notes=(
            "interleaving: every session saw both rankers' items in one team-draft list; "
            "per-variant metrics and the sample-ratio check do not apply",
        ),
    )
