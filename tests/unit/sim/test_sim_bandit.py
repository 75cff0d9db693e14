"""Acceptance of the bandit simulations: Thompson against a fixed split on the textbook case."""

from __future__ import annotations

import numpy as np
import pytest

from shipit.errors import InputError
from shipit.sim.bandit import BanditSimulation, simulate_bandit


@pytest.fixture(scope="module")
def textbook() -> tuple[BanditSimulation, BanditSimulation]:
    """Conversion 10% vs 15%, 10,000 users, 1,000 seeded runs, weights updated every 100."""
    kw = {"units": 10_000, "runs": 1_000, "batch": 100, "seed": 2026}
    return (
        simulate_bandit([0.10, 0.15], policy="thompson", **kw),  # type: ignore[arg-type]
        simulate_bandit([0.10, 0.15], policy="fixed", **kw),  # type: ignore[arg-type]
    )


def _r2(x: np.ndarray, y: np.ndarray) -> float:
    design = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    return float(1 - resid @ resid / np.sum((y - y.mean()) ** 2))


def test_thompson_regret_is_logarithmic_and_fixed_is_linear(
    textbook: tuple[BanditSimulation, BanditSimulation],
) -> None:
    thompson, fixed = textbook
    late = thompson.units >= 1_000
    t, r = thompson.units[late], thompson.regret[late]
    assert _r2(np.log(t), r) > 0.99
    assert _r2(np.log(t), r) > _r2(t, r) + 0.05  # a line fits Thompson's regret badly
    # Regret added per doubling of traffic stays flat (log), instead of doubling (linear).
    at = {int(u): float(x) for u, x in zip(thompson.units, thompson.regret, strict=True)}
    assert at[10_000] - at[5_000] < 1.5 * (at[5_000] - at[2_500])
    assert _r2(fixed.units, fixed.regret) > 0.9999
    slope = np.polyfit(fixed.units, fixed.regret, 1)[0]
    assert slope == pytest.approx(0.025, rel=0.02)  # half the users lose 5 points


def test_thompson_cuts_regret_by_more_than_half_and_finds_the_better_arm(
    textbook: tuple[BanditSimulation, BanditSimulation],
) -> None:
    thompson, fixed = textbook
    assert fixed.regret[-1] == pytest.approx(250, rel=0.02)
    assert thompson.regret[-1] < 0.5 * fixed.regret[-1]
    assert thompson.found_best >= 0.99
    assert thompson.share[1] > 0.9


@pytest.mark.parametrize("policy", ["ucb", "egreedy", "gaussian_thompson"])
def test_other_policies_beat_the_fixed_split(policy: str) -> None:
    sim = simulate_bandit([0.10, 0.15], policy=policy, units=5_000, runs=200, seed=1)
    assert sim.regret[-1] < 0.6 * 0.025 * 5_000
    assert sim.share[1] > 0.5
    assert sim.log_weights.sum(axis=-1) == pytest.approx(np.ones((200, 50)))


def test_top_two_keeps_half_on_the_leader_and_explores_the_challenger() -> None:
    sim = simulate_bandit([0.10, 0.12, 0.15], policy="top_two", units=5_000, runs=300, seed=1)
    assert 0.45 < sim.share[2] < 0.7  # about beta = 1/2 on the leader
    assert sim.share[1] > sim.share[0]  # the close challenger gets the measuring traffic
    assert sim.found_best >= 0.99


def test_many_arms_and_safeguards() -> None:
    sim = simulate_bandit(
        [0.05, 0.10, 0.08], units=3_000, runs=100, burn_in=200, min_share=0.05, seed=3
    )
    assert np.all(sim.log_weights[:, :6] == pytest.approx(1 / 3))  # burn-in periods equal
    assert sim.log_weights.min() >= 0.05 - 1e-12
    assert int(np.argmax(sim.share)) == 1


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="rates"):
        simulate_bandit([0.1])
    with pytest.raises(InputError, match="policy"):
        simulate_bandit([0.1, 0.2], policy="softmax")
