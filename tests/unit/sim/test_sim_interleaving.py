"""Interleaving against A/B on the textbook rankers (CTR 20% vs 25%, 1,000 sessions)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from shipit.errors import InputError
from shipit.sim.interleaving import simulate_interleaving, textbook_pair


def _ab_power(p0: float, p1: float, n_each: float, alpha: float = 0.05) -> float:
    """Normal-approximation power of the two-proportion z-test (closed form)."""
    se = np.sqrt(p0 * (1 - p0) / n_each + p1 * (1 - p1) / n_each)
    z = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.sf(z - abs(p1 - p0) / se) + stats.norm.cdf(-z - abs(p1 - p0) / se))


def test_textbook_pair_has_the_stated_ctrs() -> None:
    pair = textbook_pair(0.20, 0.25)
    assert pair.ctr(pair.ranking_a) == pytest.approx(0.20)
    assert pair.ctr(pair.ranking_b) == pytest.approx(0.25)
    assert pair.target.sum() == pytest.approx(1.0)


def test_interleaving_is_more_powerful_than_ab_at_the_same_traffic() -> None:
    res = simulate_interleaving(textbook_pair(0.20, 0.25), sessions=1_000, runs=600, seed=4)
    assert res.power_ab == pytest.approx(_ab_power(0.20, 0.25, 500), abs=0.07)
    assert res.power_interleaving > res.power_ab + 0.2
    assert res.mean_share_b > 0.5
    assert res.first_pick_a == pytest.approx(0.5, abs=0.01)


def test_equal_rankers_reject_at_about_alpha() -> None:
    res = simulate_interleaving(textbook_pair(0.20, 0.20), sessions=1_000, runs=1_500, seed=5)
    # ±3 binomial standard errors around 5% (the exact sign test is slightly conservative).
    assert 0.05 - 3 * np.sqrt(0.05 * 0.95 / 1_500) < res.power_interleaving
    assert res.power_interleaving < 0.05 + 3 * np.sqrt(0.05 * 0.95 / 1_500)
    assert res.mean_share_b == pytest.approx(0.5, abs=0.01)


def test_impossible_ctrs_are_refused() -> None:
    with pytest.raises(InputError, match="cannot both hold"):
        textbook_pair(0.9, 0.95)
    with pytest.raises(InputError, match="CTRs"):
        textbook_pair(0.0, 0.2)
