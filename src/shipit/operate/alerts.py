"""Alert rules on an analysis: each rule reads a state, and an alert fires when it changes.

A rule's state is a short string, ``""`` when quiet: the failed SRM checks, the red
guardrails, the verdict, the crossed sequential boundaries, whether the planned end has
passed. Comparing with the state stored after the previous run makes every alert fire once
per change, however often the monitor runs. The verdict's first value is a baseline, not a
change. A rule that goes quiet again (a guardrail back from red, SRM passing again) fires a
resolved alert, with the quiet state ``""``, so whoever was told of the problem is told it
ended; the verdict never goes quiet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from shipit.result.model import Analysis
from shipit.spec.experiment import Experiment

__all__ = ["ROLLBACK_RULES", "RULES", "Alert", "evaluate_rules", "observe"]

RULES: tuple[str, ...] = ("srm", "guardrail", "verdict", "sequential", "past_end")
# The rules whose firing rolls an experiment back when its monitoring says auto_rollback.
ROLLBACK_RULES = frozenset({"srm", "guardrail"})


@dataclass(frozen=True)
class Alert:
    """One rule that changed state: its name, new state and what it means in words."""

    rule: str
    state: str
    message: str

    @property
    def resolved(self) -> bool:
        """Whether the rule went quiet again (the problem it reported has ended)."""
        return not self.state


def observe(analysis: Analysis, experiment: Experiment, today: date) -> dict[str, tuple[str, str]]:
    """Each rule's (state, message) on this analysis."""
    srm = [t for t in analysis.trust if t.name.startswith("srm") and t.status == "fail"]
    red = [g for g in analysis.guardrails if g.light == "red"]
    crossed = [e for e in analysis.effects if e.sequential and e.sequential.crossed != "none"]
    verdict = analysis.verdict
    end = experiment.end
    out = {
        "srm": (
            ",".join(sorted(t.name for t in srm)),
            "; ".join(f"sample ratio mismatch: {t.message}" for t in srm),
        ),
        "guardrail": (
            ",".join(sorted(f"{g.metric}/{g.variant}" for g in red)),
            "; ".join(f"guardrail {g.metric} ({g.variant}) is red: {g.message}" for g in red),
        ),
        "verdict": (
            verdict.decision.value,
            f"verdict {verdict.decision.value}: " + "; ".join(verdict.reasons),
        ),
        "sequential": (
            ",".join(
                sorted(
                    f"{e.metric}/{e.variant}:{e.sequential.crossed}"
                    for e in crossed
                    if e.sequential is not None
                )
            ),
            "; ".join(
                f"{e.metric} ({e.variant}) crossed its {e.sequential.crossed} sequential boundary"
                for e in crossed
                if e.sequential is not None
            ),
        ),
        "past_end": (
            "past_end" if end is not None and today > end else "",
            f"the experiment is still running after its planned end {end}" if end else "",
        ),
    }
    return out


def evaluate_rules(
    observed: Mapping[str, tuple[str, str]], previous: Mapping[str, str]
) -> list[Alert]:
    """The alerts that fire: rules whose state changed (the verdict only when a previous
    verdict was stored); a rule that went quiet fires as resolved."""
    fired = []
    for rule in RULES:
        state, message = observed.get(rule, ("", ""))
        before = previous.get(rule, "")
        if state == before or (rule == "verdict" and not before):
            continue
        if not state:
            message = f"resolved: {_RESOLVED[rule]} (was {before})"
        fired.append(Alert(rule, state, message))
    return fired


# What a quiet state means, for the resolved alert of each rule.
_RESOLVED = {
    "srm": "the sample ratio checks pass again",
    "guardrail": "no guardrail is red any more",
    "verdict": "",
    "sequential": "no sequential boundary is crossed any more",
    "past_end": "the planned end is no longer passed",
}
