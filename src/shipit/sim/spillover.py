"""A graph experiment with known direct and spillover effects.

Units live in communities (a stochastic block graph: dense inside, sparse across). The
experiment randomizes ego-network clusters (``assign.interference``); each unit's outcome
is y = base + direct·t + spillover·f + community effect + noise, with t its treatment and f
the share of its neighbours treated. The exposure analysis should recover ``direct`` and
``spillover``; a unit-randomized analysis of the same graph sees only part of the total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from shipit.assign.interference import assign_ego_clusters, ego_clusters
from shipit.spec.experiment import Experiment

__all__ = ["SpilloverData", "simulate_spillover", "spillover_experiment"]

_T0 = pd.Timestamp("2024-06-01")


@dataclass(frozen=True)
class SpilloverData:
    """Exposures (with each unit's ego cluster), events and edges, and the truth."""

    exposures: pd.DataFrame
    events: pd.DataFrame
    edges: pd.DataFrame
    direct: float
    spillover: float

    @property
    def total(self) -> float:
        """Everyone treated against no one treated."""
        return self.direct + self.spillover


def spillover_experiment(key: str = "feed", edges: str = "engine:edges") -> Experiment:
    """The ego-cluster experiment the simulation runs: metric ``value``, the mean of y."""
    return Experiment.model_validate(
        {"key": key, "salt": f"{key}-salt",
         "variants": [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
         "design": {"kind": "ego_cluster", "edges": edges},
         "metrics": [{"name": "value", "event": "outcome", "aggregation": "sum",
                      "value": "value"}],
         "primary_metric": "value"}
    )  # fmt: skip


def _graph(
    rng: np.random.Generator, units: int, community: int, p_in: float, p_out: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges (a, b) of a stochastic block graph, and each unit's community."""
    groups = np.arange(units) // community
    a, b = np.triu_indices(units, k=1)
    same = groups[a] == groups[b]
    keep = rng.random(a.size) < np.where(same, p_in, p_out)
    return a[keep], b[keep], groups


def simulate_spillover(
    experiment: Experiment,
    *,
    seed: int,
    units: int = 1200,
    community: int = 12,
    p_in: float = 0.5,
    p_out: float = 0.001,
    direct: float = 1.0,
    spillover: float = 0.8,
    noise: float = 1.0,
    community_sd: float = 0.5,
) -> SpilloverData:
    """One seeded run: the graph, the ego-cluster assignment and the outcomes."""
    rng = np.random.default_rng(seed)
    a, b, groups = _graph(rng, units, community, p_in, p_out)
    ids = np.array([f"{experiment.key}-u{i:05d}" for i in range(units)])
    clusters = ego_clusters(ids[a], ids[b], salt=experiment.hash_salt, population=ids)
    variant = assign_ego_clusters(
        ids,
        clusters,
        list(experiment.variant_keys),
        list(experiment.weights),
        salt=experiment.hash_salt,
    )
    t = (variant != experiment.control_variant).astype(float)
    treated = np.bincount(a, t[b], units) + np.bincount(b, t[a], units)
    degree = np.bincount(a, minlength=units) + np.bincount(b, minlength=units)
    share = np.divide(treated, degree, out=np.zeros(units), where=degree > 0)
    level = rng.normal(0.0, community_sd, groups.max() + 1)[groups]
    y = 10.0 + direct * t + spillover * share + level + rng.normal(0.0, noise, units)
    ts = _T0 + pd.to_timedelta(rng.integers(0, 86_400, units), "s")
    exposures = pd.DataFrame(
        {"experiment": experiment.key, "unit_id": ids, "variant": variant.astype(str),
         "timestamp": ts, "ego_cluster": [clusters[u] for u in ids]}
    )  # fmt: skip
    events = pd.DataFrame(
        {"unit_id": ids, "event": "outcome", "value": y, "timestamp": ts + pd.Timedelta(hours=1)}
    )
    edges = pd.DataFrame({"unit_id": ids[a], "neighbour_id": ids[b]})
    return SpilloverData(exposures, events, edges, direct, spillover)
