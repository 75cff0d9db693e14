"""Which edits a running experiment may take, and which only with a new phase.

A running experiment's spec has three kinds of field:

- **randomization**, the hash slices that decide who gets which variant: the unit, the
  variant salt and hash version, the ordered list of (variant key, weight) (a reorder or a
  rename moves units even with the same weights), the namespace (name, range, salt) and the
  holdout (name, fraction, salt);
- **the analysis plan**, pre-registered before the start: the control, the primary and
  secondary metrics, every metric definition, the guardrails, the ``analysis`` settings
  (alpha, method, corrections, ...) and the ``forced`` and ``exclude`` lists;
- everything else (name, hypothesis, owner, descriptions, kill switch, planned dates), which
  may change freely.

The first two change only with a new phase and a reason; traffic and targeting open a new
phase by themselves. Each rule compares what the field means (an explicit salt equal to the
default one is no change), not how it is spelt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shipit.errors import SpecError, StateError
from shipit.spec.experiment import Experiment

__all__ = ["Review", "analysis_plan", "randomization", "review_running_update", "units_moved"]


def randomization(exp: Experiment) -> dict[str, Any]:
    """The fields that decide who gets which variant (beyond traffic and targeting)."""
    ns, holdout = exp.namespace, exp.holdout
    return {
        "unit": exp.unit,
        "salt": exp.hash_salt,
        "hash_version": exp.hash_version,
        "variants": [(v.key, v.weight) for v in exp.variants],
        "namespace": None if ns is None else (ns.name, tuple(ns.range), ns.hash_salt),
        "holdout": None if holdout is None else (holdout.name, holdout.fraction, holdout.hash_salt),
    }


def analysis_plan(exp: Experiment) -> dict[str, Any]:
    """The pre-registered plan, one entry per field (``metrics.<name>``, ``analysis.<field>``)."""
    plan: dict[str, Any] = {
        "control": exp.control_variant,
        "primary_metric": exp.primary_metric,
        "secondary_metrics": list(exp.secondary_metrics),
        "guardrails": [g.model_dump(mode="json") for g in exp.guardrails],
        "forced": dict(sorted(exp.forced.items())),
        "exclude": sorted(set(exp.exclude)),
    }
    for name, metric in sorted(exp.metric_defs().items()):
        plan[f"metrics.{name}"] = metric.model_dump(mode="json", exclude={"description"})
    for name, value in exp.analysis.model_dump(mode="json").items():
        plan[f"analysis.{name}"] = value
    return plan


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def units_moved(old: Experiment, new: Experiment) -> dict[str, int]:
    """Units whose override an edit adds, removes or changes, per list (only lists that moved)."""
    forced = {
        u for u in set(old.forced) | set(new.forced) if old.forced.get(u) != new.forced.get(u)
    }
    excluded = set(old.exclude) ^ set(new.exclude)
    moved = {"forced": len(forced), "exclude": len(excluded)}
    return {k: n for k, n in moved.items() if n}


@dataclass(frozen=True)
class Review:
    """What an accepted edit of a running experiment does: the new phase's reason (empty
    when it stays in its phase) and the units its override changes move."""

    phase_reason: str = ""
    moved: dict[str, int] = field(default_factory=dict)


def review_running_update(
    old: Experiment, new: Experiment, *, new_phase: bool, reason: str
) -> Review:
    """Check an edit of a running experiment; StateError names every frozen field it changes.

    Randomization and analysis-plan changes need ``new_phase`` with a ``reason``; a traffic or
    targeting change opens a new phase by itself.
    """
    key = new.key
    frozen = _changed(randomization(old), randomization(new))
    frozen += _changed(analysis_plan(old), analysis_plan(new))
    if frozen and not new_phase:
        raise StateError(
            f"cannot change {', '.join(frozen)} of running experiment {key!r} without a new "
            "phase: the randomization and the analysis plan are fixed once it starts "
            "(pass new_phase with a reason)"
        )
    if new_phase and not reason.strip():
        raise SpecError(f"a new phase of {key!r} needs a reason")
    automatic = []
    if old.traffic != new.traffic:
        automatic.append(f"traffic {old.traffic:g} -> {new.traffic:g}")
    if old.targeting != new.targeting:
        automatic.append("targeting changed")
    phase_reason = (reason.strip() or "; ".join(automatic)) if (new_phase or automatic) else ""
    return Review(phase_reason=phase_reason, moved=units_moved(old, new))
