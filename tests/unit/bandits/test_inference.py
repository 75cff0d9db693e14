"""IPW after a bandit: matches the unit-level formula; unbiased where the naive mean is not."""

from __future__ import annotations

import numpy as np
import pytest

from shipit.bandits.inference import ipw_from_periods, ipw_means
from shipit.errors import InputError
from shipit.sim.bandit import simulate_bandit


def test_ipw_matches_the_unit_level_horvitz_thompson_sum(rng: np.random.Generator) -> None:
    w = np.array([[0.5, 0.5], [0.2, 0.8], [0.1, 0.9]])
    arms, ys, periods = [], [], []
    for t in range(3):
        a = rng.choice(2, size=40, p=w[t])
        arms.append(a)
        ys.append(rng.normal(1.0 + a, 1.0))
        periods.append(np.full(40, t))
    arm, y, per = np.concatenate(arms), np.concatenate(ys), np.concatenate(periods)
    n = np.array([[np.sum((per == t) & (arm == k)) for k in range(2)] for t in range(3)])
    s = np.array([[y[(per == t) & (arm == k)].sum() for k in range(2)] for t in range(3)])
    ss = np.array([[(y[(per == t) & (arm == k)] ** 2).sum() for k in range(2)] for t in range(3)])
    est = ipw_means(n, s, ss, w)
    for k in range(2):
        z = np.where(arm == k, y / w[per, k], 0.0)
        assert est.mean[k] == pytest.approx(z.mean())
        assert est.se[k] == pytest.approx(z.std() / np.sqrt(z.size))
    diff = np.where(arm == 1, y / w[per, 1], 0.0) - np.where(arm == 0, y / w[per, 0], 0.0)
    assert est.effect[1] == pytest.approx(diff.mean())
    assert est.effect_se[1] == pytest.approx(diff.std() / np.sqrt(diff.size))
    assert est.naive[1] == pytest.approx(y[arm == 1].mean())


def test_ipw_is_unbiased_after_thompson_where_the_naive_mean_is_not() -> None:
    rates = np.array([0.10, 0.15])
    sim = simulate_bandit(
        rates, policy="thompson", units=1000, runs=10_000, batch=50, min_share=0.1, seed=5
    )
    est = ipw_means(sim.log_n, sim.log_conversions, sim.log_conversions, sim.log_weights)
    runs = est.mean.shape[0]
    ipw_z = (est.mean.mean(0) - rates) / (est.mean.std(0) / np.sqrt(runs))
    naive_z = (est.naive.mean(0) - rates) / (est.naive.std(0) / np.sqrt(runs))
    assert np.all(np.abs(ipw_z) < 4)
    assert naive_z[0] < -10  # the arm starved early keeps its unlucky start
    effect = est.effect[:, 1]
    assert abs(effect.mean() - 0.05) < 4 * effect.std() / np.sqrt(runs)
    naive_effect = est.naive[:, 1] - est.naive[:, 0]
    assert naive_effect.mean() - 0.05 > 8 * naive_effect.std() / np.sqrt(runs)  # over-credited


def test_ipw_rejects_inconsistent_logs() -> None:
    with pytest.raises(InputError, match="shape"):
        ipw_means(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), np.ones((3, 2)))
    with pytest.raises(InputError, match="weight was 0"):
        ipw_means([[1, 1]], [[1, 1]], [[1, 1]], [[1.0, 0.0]])


def test_ipw_from_a_bandit_state_log_matches_the_arrays() -> None:
    from datetime import UTC, datetime, timedelta

    from shipit.bandits.state import BanditState
    from shipit.stats.moments import Moments

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    state = BanditState.start(["a", "b"], t0)
    rows = [((100, 10), (100, 16)), ((30, 2), (170, 25)), ((12, 1), (188, 30))]
    batches = []
    for i, ((na, ca), (nb, cb)) in enumerate(rows):
        batch = Moments.from_sums(["a", "b"], ["reward"], [na, nb], [ca, cb], [ca, cb])
        batches.append(batch)
        if i < len(rows) - 1:
            state = state.update(batch, t0 + timedelta(hours=i + 1))
    assert len(state.periods) == 3
    variants, est = ipw_from_periods(state.periods, batches)
    n = np.array([[r[0][0], r[1][0]] for r in rows], dtype=float)
    c = np.array([[r[0][1], r[1][1]] for r in rows], dtype=float)
    w = np.array([[p.weights["a"], p.weights["b"]] for p in state.periods])
    ref = ipw_means(n, c, c, w)
    assert variants == ["a", "b"]
    assert est.mean == pytest.approx(ref.mean)
    assert est.effect_se == pytest.approx(ref.effect_se)
    with pytest.raises(InputError, match="allocation periods"):
        ipw_from_periods(state.periods, batches[:2])


def test_effect_of_a_variant_added_later_uses_only_the_periods_it_was_served() -> None:
    n = np.array([[50.0, 50.0, 0.0], [40.0, 40.0, 20.0], [30.0, 30.0, 40.0]])
    s = np.array([[5.0, 8.0, 0.0], [4.0, 6.0, 3.0], [3.0, 5.0, 6.0]])
    w = np.array([[0.5, 0.5, 0.0], [0.4, 0.4, 0.2], [0.3, 0.3, 0.4]])
    est = ipw_means(n, s, s, w)
    # Periods 1-2 only (200 units): Σ y/w is 3/.2 + 6/.4 = 30 for the new variant and
    # 4/.4 + 3/.3 = 20 for the control.
    assert est.effect[2] == pytest.approx((30 - 20) / 200)
    assert est.mean[2] == pytest.approx(30 / 200)
    assert est.effect[0] == 0.0
