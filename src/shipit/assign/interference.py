"""Randomization under interference: ego-network clusters of a graph of units.

When a unit's outcome depends on its neighbours' variants (a social feed, a marketplace),
randomizing units one by one mixes treated and control neighbourhoods and biases the
effect towards zero. Randomizing whole ego networks (a unit with its neighbours) keeps
most neighbourhoods in one variant. The clustering is greedy and deterministic: units in
order of falling degree (ties by the hash of the unit id under the salt, then the id), each
not yet clustered unit becomes a centre and takes every neighbour not yet clustered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from shipit.assign import designs
from shipit.assign.hashing import hash_batch
from shipit.errors import InputError

__all__ = ["assign_ego_clusters", "ego_clusters"]


def _edge_list(
    units: Sequence[Any] | npt.NDArray[Any], neighbours: Sequence[Any] | npt.NDArray[Any]
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    a = np.asarray(units).astype(str)
    b = np.asarray(neighbours).astype(str)
    if a.shape != b.shape or a.ndim != 1:
        raise InputError(f"edges: {a.size} units for {b.size} neighbours")
    names, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    return names, inverse[: a.size], inverse[a.size :]


def ego_clusters(
    units: Sequence[Any] | npt.NDArray[Any],
    neighbours: Sequence[Any] | npt.NDArray[Any],
    *,
    salt: str = "",
    population: Sequence[Any] | npt.NDArray[Any] | None = None,
) -> dict[str, str]:
    """The ego cluster of every unit of the edges (and of ``population``): the unit id of
    its cluster's centre. Edges are undirected; a unit without edges is its own cluster.

    >>> ego_clusters(["a", "a", "a", "d"], ["b", "c", "d", "e"])
    {'a': 'a', 'b': 'a', 'c': 'a', 'd': 'a', 'e': 'e'}
    """
    names, src, dst = _edge_list(units, neighbours)
    if population is not None:
        extra = np.setdiff1d(np.asarray(population).astype(str), names)
        names = np.concatenate([names, extra])
    keep = src != dst
    src, dst = src[keep], dst[keep]
    n = names.size
    # Undirected adjacency as CSR (duplicates are harmless).
    heads = np.concatenate([src, dst])
    tails = np.concatenate([dst, src])
    order = np.argsort(heads, kind="stable")
    heads, tails = heads[order], tails[order]
    starts = np.searchsorted(heads, np.arange(n + 1))
    degree = np.diff(starts)
    ties = hash_batch(1, f"ego:{salt}", list(names)) if n else np.zeros(0)
    # By falling degree, then the salted hash, then the id: the same on every machine.
    rank = np.lexsort((np.arange(n), ties, -degree))
    centre = np.full(n, -1, dtype=np.int64)
    for u in rank.tolist():
        if centre[u] >= 0:
            continue
        centre[u] = u
        around = tails[starts[u] : starts[u + 1]]
        free = around[centre[around] < 0]
        centre[free] = u
    return dict(zip(names.tolist(), names[centre].tolist(), strict=True))


def assign_ego_clusters(
    units: Sequence[Any] | npt.NDArray[Any],
    clusters: dict[str, str],
    variants: Sequence[str],
    weights: Sequence[float] | None = None,
    *,
    salt: str,
    hash_version: int = 1,
) -> npt.NDArray[np.str_]:
    """The variant of each unit: its ego cluster's, drawn from the hash of the cluster id
    (as ``designs.cluster``). A unit missing from ``clusters`` is an InputError."""
    ids = [str(u) for u in units]
    missing = next((u for u in ids if u not in clusters), None)
    if missing is not None:
        raise InputError(f"unit {missing!r} is not in the graph's ego clusters")
    return designs.cluster(
        [clusters[u] for u in ids], variants, weights, salt=salt, hash_version=hash_version
    )
