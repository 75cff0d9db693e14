"""The bandit section of a report: adaptive-aware estimates per variant, P(best), and the
weights of each allocation period (written once, drawn by every renderer)."""

from __future__ import annotations

from shipit.report.section_tables import Column, Table
from shipit.result import format as fmt
from shipit.result.bandit import BanditResult

__all__ = ["bandit_section_parts"]


def bandit_section_parts(b: BanditResult) -> tuple[tuple[Table, ...], tuple[str, ...]]:
    """The section's tables (estimates, periods) and notes."""
    level = f"{1 - b.alpha:.0%}"
    estimates = Table(
        (
            Column("variant"),
            Column("units", numeric=True),
            Column(f"mean (IPW) [{level} CI]", numeric=True),
            Column("plain mean", numeric=True),
            Column("vs control [CI]", numeric=True),
            Column("P(best)", numeric=True),
            Column("weight now", numeric=True),
        ),
        tuple(
            (
                arm.variant,
                fmt.count(arm.units),
                fmt.estimate(arm.mean, arm.ci_low, arm.ci_high, fmt.num),
                fmt.num(arm.naive_mean),
                "control"
                if arm.effect is None
                else fmt.estimate(arm.effect, arm.effect_ci_low, arm.effect_ci_high, fmt.signed),
                fmt.share(arm.p_best),
                fmt.share(arm.weight_now),
            )
            for arm in b.arms
        ),
        caption=f"reward {b.reward}, policy {b.policy}: inverse-propensity (Horvitz–Thompson) "
        "means weight each unit by 1 / the weight its entry period gave its variant",
    )
    variants = [arm.variant for arm in b.arms]
    periods = Table(
        (
            Column("period", numeric=True),
            Column("started (UTC)"),
            *(Column(f"{v}: weight · units", numeric=True) for v in variants),
        ),
        tuple(
            (
                str(p.number),
                p.started_at[:16].replace("T", " "),
                *(
                    f"{fmt.share(p.weights.get(v))} · {fmt.count(p.units.get(v, 0))}"
                    for v in variants
                ),
            )
            for p in b.periods
        ),
        caption="allocation periods: the weights each served and the units that entered in it",
    )
    notes = []
    if b.best is not None and b.p_best is not None:
        notes.append(f"{b.best} is the best variant with probability {fmt.share(b.p_best)}")
    notes.append(
        "the plain means are biased under adaptive allocation (a bandit stops sampling what "
        "looked bad early); the IPW means and their intervals are not"
    )
    return (estimates, periods), tuple(notes)
