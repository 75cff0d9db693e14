"""Synthetic experiments with a known truth: built-in scenarios, peeking, bandits and interleaving.

>>> data = generate("three-models", n_users=2_000, seed=1)
>>> sorted(data.exposures["variant"].unique())
['collaborative', 'content', 'hybrid', 'popularity']
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from shipit.errors import InputError
from shipit.sim._base import (
    Assign,
    GuardrailDef,
    Progress,
    Scenario,
    ScenarioInfo,
    SimChunk,
    SimData,
    StratifiedAssign,
    collect,
    generate_chunks,
)
from shipit.sim.bandit import BanditSimulation, simulate_bandit
from shipit.sim.ecommerce import Ecommerce
from shipit.sim.interleaving import (
    InterleavingPower,
    RankerPair,
    simulate_interleaving,
    textbook_pair,
)
from shipit.sim.peeking import PeekingResult, simulate_peeking
from shipit.sim.recommender import Recommender, from_movielens
from shipit.sim.three_models import ThreeModels

__all__ = [
    "SCENARIOS",
    "Assign",
    "BanditSimulation",
    "Ecommerce",
    "GuardrailDef",
    "InterleavingPower",
    "PeekingResult",
    "Progress",
    "RankerPair",
    "Recommender",
    "Scenario",
    "ScenarioInfo",
    "SimChunk",
    "SimData",
    "StratifiedAssign",
    "ThreeModels",
    "generate",
    "iter_chunks",
    "scenario",
    "simulate_bandit",
    "simulate_interleaving",
    "simulate_peeking",
    "textbook_pair",
]

SCENARIOS: dict[str, type[Recommender] | type[Ecommerce] | type[ThreeModels]] = {
    "recommender": Recommender,
    "ecommerce": Ecommerce,
    "three-models": ThreeModels,
}


def scenario(name: str, *, movielens: str | Path | None = None) -> Scenario:
    """The built-in scenario called ``name`` (the recommender optionally on MovieLens)."""
    if name not in SCENARIOS:
        raise InputError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    if movielens is not None:
        if name != "recommender":
            raise InputError("--movielens applies to the recommender scenario only")
        return from_movielens(movielens)
    return SCENARIOS[name]()


def generate(
    name: str,
    n_users: int = 100_000,
    *,
    seed: int = 0,
    chunk_size: int = 500_000,
    progress: Progress | None = None,
    movielens: str | Path | None = None,
) -> SimData:
    """Generate a whole scenario in memory (use ``iter_chunks`` for very large runs)."""
    return collect(
        scenario(name, movielens=movielens),
        n_users,
        seed=seed,
        chunk_size=chunk_size,
        progress=progress,
    )


def iter_chunks(
    name: str,
    n_users: int,
    *,
    seed: int = 0,
    chunk_size: int = 500_000,
    progress: Progress | None = None,
    movielens: str | Path | None = None,
    assign: Assign | StratifiedAssign | None = None,
) -> Iterator[SimChunk]:
    """A scenario's data chunk by chunk, for writing 10M users into a store.

    ``assign`` gives the variants (index per unit id, or per unit id and stratum for the
    recommender's stratified design) instead of the scenario's own draw.
    """
    return generate_chunks(
        scenario(name, movielens=movielens),
        n_users,
        seed=seed,
        chunk_size=chunk_size,
        progress=progress,
        assign=assign,
    )
