"""Assignment by the design a spec names (``Experiment.design``): the offline designs of
``shipit.assign.designs`` fed from the spec's salt, variants and weights, and the units'
attributes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from shipit.assign import designs
from shipit.assign.designs import SwitchbackSchedule
from shipit.errors import InputError
from shipit.spec.design import (
    BlockedDesign,
    ClusterDesign,
    EgoClusterDesign,
    StratifiedDesign,
    SwitchbackDesign,
)
from shipit.spec.experiment import Experiment

__all__ = [
    "assign_design",
    "assign_online",
    "block_strata",
    "default_block_size",
    "switchback_schedule",
]

_MAX_BLOCK = 10_000


def default_block_size(weights: Sequence[float]) -> int:
    """The smallest block that gives each variant a whole number of units."""
    denominators = [Fraction(w).limit_denominator(_MAX_BLOCK).denominator for w in weights]
    size = int(np.lcm.reduce(np.array(denominators, dtype=np.int64)))
    return max(size, len(weights)) if size <= _MAX_BLOCK else _MAX_BLOCK


def _column(attributes: Mapping[str, Sequence[Any]] | None, name: str, n: int) -> list[Any]:
    if attributes is None or name not in attributes:
        known = sorted(attributes or {})
        raise InputError(f"the design needs the attribute {name!r} of every unit (given: {known})")
    values = list(attributes[name])
    if len(values) != n:
        raise InputError(f"attribute {name!r} has {len(values)} values for {n} units")
    missing = next((i for i, v in enumerate(values) if v is None), None)
    if missing is not None:
        raise InputError(f"attribute {name!r} is missing for unit {missing} (row {missing})")
    return values


def block_strata(
    experiment: Experiment,
    units: Sequence[str] | npt.NDArray[Any],
    attributes: Mapping[str, Sequence[Any]] | None = None,
) -> npt.NDArray[np.int64]:
    """The analysis stratum of each unit of a blocked design, to store as its exposure
    attribute ``block``: its block number, consecutive blocks pooled so that each stratum
    holds at least two units of every variant (a within-stratum variance needs two).
    Blocks follow the order ``assign_design`` uses (``order_by``, else the units' order)."""
    design = experiment.design
    if not isinstance(design, BlockedDesign):
        raise InputError(f"experiment {experiment.key!r} does not have a blocked design")
    n = len(units)
    size = design.block_size or default_block_size(experiment.weights)
    order = np.arange(n)
    if design.order_by is not None:
        try:
            values = np.array([float(v) for v in _column(attributes, design.order_by, n)])
        except (TypeError, ValueError) as err:
            raise InputError(f"order_by {design.order_by!r} must be numeric: {err}") from err
        order = np.argsort(values, kind="stable")
    fewest = min(size * w for w in experiment.weights)
    pooled = max(1, int(np.ceil(2.0 / max(fewest, 1e-12))))
    block = np.empty(n, np.int64)
    block[order] = np.arange(n) // (size * pooled)
    return block


def assign_design(
    experiment: Experiment,
    units: Sequence[str] | npt.NDArray[Any],
    attributes: Mapping[str, Sequence[Any]] | None = None,
    times: Sequence[datetime] | None = None,
) -> npt.NDArray[np.object_]:
    """The variant of each unit under the experiment's design.

    ``attributes`` holds the columns the design reads (strata, cluster, order, region);
    a switchback also needs each unit's ``times`` (its variant depends on when it arrives).
    """
    design = experiment.design
    if design is None:
        raise InputError(f"experiment {experiment.key!r} has no design block")
    n = len(units)
    variants, weights = list(experiment.variant_keys), list(experiment.weights)
    salt = experiment.hash_salt
    if isinstance(design, StratifiedDesign):
        cols = [_column(attributes, a, n) for a in design.by]
        strata = ["\x1f".join(str(c[i]) for c in cols) for i in range(n)]
        out = designs.stratified(units, strata, variants, weights, salt=salt)
    elif isinstance(design, BlockedDesign):
        size = design.block_size or default_block_size(weights)
        order = None
        if design.order_by is not None:
            try:
                order = [float(v) for v in _column(attributes, design.order_by, n)]
            except (TypeError, ValueError) as err:
                raise InputError(f"order_by {design.order_by!r} must be numeric: {err}") from err
        out = designs.blocked(units, variants, size, order, weights, salt=salt)
    elif isinstance(design, (ClusterDesign, EgoClusterDesign)):
        # An ego-cluster design's clusters come from the graph (assign.interference), stored
        # as the units' attribute ``by``.
        clusters = _column(attributes, design.by, n)
        out = designs.cluster(
            clusters, variants, weights, salt=salt, hash_version=experiment.hash_version
        )
    else:
        assert isinstance(design, SwitchbackDesign)
        if times is None or len(times) != n:
            raise InputError("a switchback design needs the time of every unit")
        regions = [str(v) for v in _column(attributes, design.by, n)] if design.by else ["all"] * n
        schedule = switchback_schedule(experiment, sorted(set(regions)), min(times), max(times))
        variant, _ = schedule.lookup(regions, list(times))
        return np.asarray(variant, dtype=object)
    return np.asarray(out, dtype=object)


def switchback_schedule(
    experiment: Experiment, regions: Sequence[str], first: datetime, last: datetime
) -> SwitchbackSchedule:
    """The experiment's switchback schedule covering ``first`` to ``last`` (it starts at the
    design's ``start``, else the experiment's start day, else ``first``)."""
    design = experiment.design
    if not isinstance(design, SwitchbackDesign):
        raise InputError(f"experiment {experiment.key!r} does not have a switchback design")
    start = design.start
    if start is None and experiment.start is not None:
        start = datetime.combine(experiment.start, time())
    start = start or first
    if first < start:
        raise InputError(f"time {first} is before the switchback start {start}")
    return designs.switchback(
        list(regions),
        start,
        last + timedelta(microseconds=1),
        design.period,
        list(experiment.variant_keys),
        salt=experiment.hash_salt,
        burn_in=design.burn_in,
        weights=list(experiment.weights),
    )


def assign_online(
    experiment: Experiment,
    unit: str,
    attributes: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> str:
    """The variant of one arriving unit under a design that can be served one unit at a
    time (API, SDK): cluster (by its cluster attribute) and switchback (by region and the
    time ``at``). Stratified and blocked designs balance a known population, so they are
    assigned in batch (``assign_design``): InputError."""
    design = experiment.design
    attrs = dict(attributes or {})
    if isinstance(design, (ClusterDesign, EgoClusterDesign)):
        value = attrs.get(design.by)
        if value is None:
            raise InputError(f"unit {unit!r} has no {design.by!r} attribute (its cluster)")
        return str(assign_design(experiment, [unit], {design.by: [value]})[0])
    if isinstance(design, SwitchbackDesign):
        if at is None:
            raise InputError(f"unit {unit!r}: a switchback design needs the time of the request")
        region = str(attrs.get(design.by)) if design.by else "all"
        if design.by and attrs.get(design.by) is None:
            raise InputError(f"unit {unit!r} has no {design.by!r} attribute (its region)")
        if design.start is None and experiment.start is None:
            raise InputError("serving a switchback needs design.start or the experiment's start")
        schedule = switchback_schedule(experiment, [region], at, at)
        variant, _ = schedule.lookup([region], [at])
        if variant[0] is None:
            raise InputError(f"time {at} is outside the switchback schedule")
        return str(variant[0])
    kind = design.kind if design is not None else "none"
    raise InputError(
        f"experiment {experiment.key!r} (design {kind}) is assigned in batch: use assign_design"
    )
