"""Designs served one unit at a time (API, SDK): what the variant hash of a design reads.

A cluster (or ego-cluster) design hashes the unit's cluster attribute instead of its id,
so every unit of a cluster gets the cluster's variant, with the same slices and traffic as
any experiment (equal to ``spec_designs.assign_design``). A switchback design's variant is
its schedule's at the time of the request. Stratified and blocked designs balance a known
population and are assigned in batch; served, they fall back to the unit hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from shipit.assign.spec_designs import assign_online
from shipit.errors import InputError
from shipit.spec.design import ClusterDesign, EgoClusterDesign, SwitchbackDesign
from shipit.spec.experiment import Experiment

__all__ = [
    "cluster_attribute",
    "cluster_key",
    "cluster_keys",
    "is_switchback",
    "switchback_indices",
    "switchback_variant",
]


def cluster_attribute(experiment: Experiment) -> str | None:
    """The attribute whose value the variant hash reads instead of the unit id, if any."""
    design = experiment.design
    return design.by if isinstance(design, (ClusterDesign, EgoClusterDesign)) else None


def is_switchback(experiment: Experiment) -> bool:
    """Whether the variant depends on the time of the request."""
    return isinstance(experiment.design, SwitchbackDesign)


def cluster_key(by: str, unit: str, attributes: Mapping[str, Any] | None) -> str:
    """The cluster of one unit: InputError naming the attribute when it is missing."""
    value = (attributes or {}).get(by)
    if value is None:
        raise InputError(f"unit {unit!r} has no {by!r} attribute (its cluster)")
    return str(value)


def cluster_keys(
    by: str, units: npt.NDArray[Any], columns: Mapping[str, Any]
) -> npt.NDArray[np.object_]:
    """The cluster of every unit of a batch (the column ``by`` of its attributes)."""
    column = columns.get(by)
    if column is None:
        raise InputError(f"a cluster design needs the {by!r} attribute of every unit")
    keys = np.asarray(column, dtype=object)
    missing = np.flatnonzero(np.array([v is None for v in keys], dtype=bool))
    if missing.size:
        raise InputError(f"unit {units[int(missing[0])]!r} has no {by!r} attribute (its cluster)")
    return np.array([str(v) for v in keys], dtype=object)


def switchback_variant(
    experiment: Experiment, unit: str, attributes: Mapping[str, Any] | None
) -> str:
    """The switchback variant now (UTC) of the unit's region."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return assign_online(experiment, unit, attributes, now)


def switchback_indices(
    experiment: Experiment, units: npt.NDArray[Any], columns: Mapping[str, Any]
) -> npt.NDArray[np.int64]:
    """The variant index now of every unit of a batch (by its region attribute)."""
    design = experiment.design
    assert isinstance(design, SwitchbackDesign)
    variants = list(experiment.variant_keys)
    regions = columns.get(design.by) if design.by else None
    out = np.empty(len(units), np.int64)
    for k, unit in enumerate(units):
        attrs = {design.by: regions[k]} if design.by and regions is not None else {}
        out[k] = variants.index(switchback_variant(experiment, str(unit), attrs))
    return out
