"""Per-day effects recovered from cumulative ones, and the novelty test's size and power."""

from __future__ import annotations

import numpy as np
import pytest

from shipit.decide.trust import effect_increments, novelty_check


def test_increments_recover_each_batch_of_new_units_exactly() -> None:
    # Each look adds a batch of new units; the cumulative difference of means is the
    # n-weighted mean of the batch differences and information grows as n: closed form.
    rng = np.random.default_rng(3)
    n = rng.integers(100, 1000, 10).astype(float)
    delta = rng.normal(0.0, 1.0, 10)
    sigma = 2.0
    big_n = np.cumsum(n)
    theta = np.cumsum(n * delta) / big_n
    se = sigma * np.sqrt(2.0 / big_n)
    inc, inc_se = effect_increments(theta, se)
    np.testing.assert_allclose(inc, delta, rtol=1e-9)
    np.testing.assert_allclose(inc_se, sigma * np.sqrt(2.0 / n), rtol=1e-9)


def test_looks_without_new_information_are_left_out() -> None:
    inc, inc_se = effect_increments([0.1, 0.2, 0.3], [0.1, 0.1, np.nan])
    assert np.isfinite(inc[0])
    assert np.isnan(inc[1:]).all()
    assert np.isnan(inc_se[1:]).all()


def _cumulative_days(seed: int, tau: np.ndarray, n: int = 6000, days: int = 21) -> tuple:
    """Cumulative relative effect and SE per day: Poisson counts of units with a persistent
    heavy-tailed rate, entering over the first week; ``tau`` is the effect by day since entry."""
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, 2 * n)
    start = rng.integers(0, 7, 2 * n)
    rate = rng.lognormal(0.0, 1.0, 2 * n)
    age = np.arange(days)[None, :] - start[:, None]
    lift = np.where(arm[:, None] == 1, 1.0 + tau[np.clip(age, 0, days - 1)], 1.0)
    y = np.cumsum(rng.poisson(rate[:, None] * lift * (age >= 0)), axis=1).astype(float)
    rel, se = np.empty(days), np.empty(days)
    for d in range(days):
        m, v = [], []
        for k in (0, 1):
            x = y[(age[:, d] >= 0) & (arm == k), d]
            m.append(x.mean())
            v.append(x.var(ddof=1) / x.size)
        rel[d] = m[1] / m[0] - 1.0
        se[d] = np.sqrt(v[1] / m[0] ** 2 + m[1] ** 2 * v[0] / m[0] ** 4)
    return rel, se


@pytest.mark.slow
def test_novelty_on_increments_keeps_its_size_and_finds_a_decay() -> None:
    """Same units re-measured cumulatively (the increments' SEs are approximate there):
    a constant +5% is flagged about 5% of the time, a decaying bump most of the time."""
    days = np.arange(21)
    flat = np.full(21, 0.05)
    decay = 0.05 + 0.15 * np.exp(-days / 2.0)
    reps = 100
    warn = {"flat": 0, "decay": 0}
    for seed in range(reps):
        for name, tau in (("flat", flat), ("decay", decay)):
            inc, inc_se = effect_increments(*_cumulative_days(seed, tau))
            warn[name] += novelty_check(days, inc, inc_se).status == "warn"
    assert warn["flat"] / reps < 0.10
    assert warn["decay"] / reps > 0.6


def test_novelty_message_gives_each_period_its_interval() -> None:
    # Equal SEs: each period's mean is the plain mean, its SE se/√(days in the period).
    days = np.arange(14)
    est = np.where(days < 7, 0.2, 0.05)
    check = novelty_check(days, est, np.full(14, 0.01))
    half = 1.959963984540054 * 0.01 / np.sqrt(7)
    assert check.status == "warn"
    # relative effects read as percentages, like every relative effect in the report
    assert f"relative effect +20.00% [{0.2 - half:+.2%}, {0.2 + half:+.2%}]" in check.message
    assert f"+5.00% [{0.05 - half:+.2%}, {0.05 + half:+.2%}] later" in check.message
    assert check.details["later_se"] == pytest.approx(0.01 / np.sqrt(7))
