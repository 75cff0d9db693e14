"""Assignment of a bandit experiment: the spec with the current allocation period's weights.

Within a period a unit's variant is a pure function of (hash version, salt, unit id,
weights), as for any experiment. The salt stays the same across periods, so a new period
moves only the units whose hash falls where the slices moved; the analysis attributes each
unit to its first exposure, whose period's weights are its propensities.
"""

from __future__ import annotations

from collections.abc import Mapping

from shipit.assign.assigner import Assigner
from shipit.errors import InputError
from shipit.spec.experiment import Experiment

__all__ = ["allocated", "bandit_assigner"]


def allocated(experiment: Experiment, weights: Mapping[str, float] | None) -> Experiment:
    """``experiment`` serving ``weights`` (every variant named, summing to 1); unchanged
    when ``weights`` is None or the experiment is not a bandit."""
    if weights is None or experiment.type != "bandit":
        return experiment
    keys = experiment.variant_keys
    if set(weights) != set(keys):
        raise InputError(
            f"experiment {experiment.key!r}: allocation weights name {sorted(weights)}, "
            f"its variants are {sorted(keys)}"
        )
    total = sum(weights.values())
    if any(w < 0 for w in weights.values()) or abs(total - 1.0) > 1e-6:
        raise InputError(
            f"experiment {experiment.key!r}: allocation weights must be non-negative and "
            f"sum to 1, got {dict(weights)}"
        )
    variants = tuple(
        v.model_copy(update={"weight": float(weights[v.key]) / total}) for v in experiment.variants
    )
    return experiment.model_copy(update={"variants": variants})


def bandit_assigner(experiment: Experiment, weights: Mapping[str, float] | None) -> Assigner:
    """An ``Assigner`` for the experiment under the current period's weights."""
    return Assigner(allocated(experiment, weights))
