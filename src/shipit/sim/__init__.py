"""Seeded simulations with known truth: peeking, bandits and interleaving, vectorized over runs."""

from __future__ import annotations

from shipit.sim.bandit import BanditSimulation, simulate_bandit
from shipit.sim.interleaving import (
    InterleavingPower,
    RankerPair,
    simulate_interleaving,
    textbook_pair,
)
from shipit.sim.peeking import PeekingResult, simulate_peeking

__all__ = [
    "BanditSimulation",
    "InterleavingPower",
    "PeekingResult",
    "RankerPair",
    "simulate_bandit",
    "simulate_interleaving",
    "simulate_peeking",
    "textbook_pair",
]
