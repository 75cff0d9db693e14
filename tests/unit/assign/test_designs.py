"""Offline designs: exact balance within strata and blocks, cluster integrity, switchbacks."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from scipy import stats

from shipit.assign.designs import blocked, cluster, stratified, switchback
from shipit.errors import InputError


def test_stratified_balances_every_stratum(rng: np.random.Generator) -> None:
    n = 10_007
    units = np.array([f"u{i}" for i in range(n)])
    strata = rng.choice(["ios", "android", "web", "tv"], n, p=[0.4, 0.3, 0.29, 0.01])
    got = stratified(units, strata, ["a", "b", "c"], [0.5, 0.25, 0.25], salt="s")
    for s in np.unique(strata):
        mask = strata == s
        counts = np.array([(got[mask] == v).sum() for v in ("a", "b", "c")])
        target = mask.sum() * np.array([0.5, 0.25, 0.25])
        assert np.abs(counts - target).max() < 1
    assert (
        got
        == stratified(units[::-1], strata[::-1], ["a", "b", "c"], [0.5, 0.25, 0.25], salt="s")[::-1]
    ).all()


def test_stratified_is_random_within_strata() -> None:
    """Which units get a variant is unrelated to the unit order (no systematic pattern)."""
    units = np.array([f"u{i}" for i in range(20_000)])
    got = stratified(units, np.zeros(20_000), ["a", "b"], salt="x")
    halves = np.array(
        [
            [(got[:10_000] == "a").sum(), (got[:10_000] == "b").sum()],
            [(got[10_000:] == "a").sum(), (got[10_000:] == "b").sum()],
        ]
    )
    assert stats.chi2_contingency(halves).pvalue > 0.001


def test_leftovers_do_not_favour_a_variant() -> None:
    units = np.array([f"u{i}" for i in range(3000)])
    strata = np.arange(3000) // 3  # 1,000 strata of 3 units, two variants
    got = stratified(units, strata, ["a", "b"], salt="s")
    assert abs((got == "a").sum() - 1500) < 100


def test_blocked_balances_each_block_by_covariate(rng: np.random.Generator) -> None:
    units = np.array([f"u{i}" for i in range(1000)])
    x = rng.normal(size=1000)
    got = blocked(units, ["a", "b"], block_size=4, order_by=x, salt="blk")
    order = np.argsort(x, kind="stable")
    for b in range(250):
        block = got[order[4 * b : 4 * b + 4]]
        assert (block == "a").sum() == 2
    with pytest.raises(InputError, match="whole number"):
        blocked(units, ["a", "b", "c"], block_size=4, salt="blk")


def test_cluster_keeps_clusters_together_and_splits_by_weight() -> None:
    clusters = np.repeat([f"city{i}" for i in range(20_000)], 3)
    got = cluster(clusters, ["a", "b"], [0.3, 0.7], salt="geo")
    per = got.reshape(-1, 3)
    assert (per == per[:, :1]).all()
    share = (per[:, 0] == "a").mean()
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 20_000)


def test_switchback_schedule_with_burn_in() -> None:
    start = datetime(2026, 1, 1)
    sched = switchback(
        ["north", "south"],
        start,
        start + timedelta(days=30),
        timedelta(hours=2),
        ["a", "b"],
        salt="sb",
        burn_in=timedelta(minutes=20),
    )
    assert sched.slices == 360
    rows = sched.rows()
    assert rows[1]["start"] == start + timedelta(hours=2)
    assert rows[1]["analysis_start"] == start + timedelta(hours=2, minutes=20)
    counts = [sum(r["variant"] == v for r in rows) for v in ("a", "b")]
    assert stats.chisquare(counts).pvalue > 0.001
    variant, burn = sched.lookup(
        ["north", "north", "south", "west", "north"],
        [
            start + timedelta(minutes=10),
            start + timedelta(minutes=30),
            start + timedelta(hours=2, minutes=21),
            start,
            start - timedelta(hours=1),
        ],
    )
    assert burn.tolist() == [True, False, False, False, False]
    assert variant[0] == variant[1] == rows[0]["variant"]
    assert variant[2] == rows[360 + 1]["variant"]
    assert variant[3] is None
    assert variant[4] is None
    with pytest.raises(InputError, match="burn-in"):
        switchback(
            ["r"],
            start,
            start + timedelta(days=1),
            timedelta(hours=1),
            ["a", "b"],
            salt="s",
            burn_in=timedelta(hours=2),
        )


def test_integer_strata_assign_as_their_text_does() -> None:
    """Integer strata take a fast path: the same variants as the strata written as text."""
    units = [f"u{i}" for i in range(3_001)]
    strata = np.arange(3_001) % 12  # labels 10 and 11 sort before 2 as text
    as_int = stratified(units, strata, ["a", "b", "c"], [0.5, 0.3, 0.2], salt="s")
    as_text = stratified(units, strata.astype(str), ["a", "b", "c"], [0.5, 0.3, 0.2], salt="s")
    assert list(as_int) == list(as_text)
    clusters = cluster(strata, ["a", "b"], salt="s")
    assert list(clusters) == list(cluster(strata.astype(str), ["a", "b"], salt="s"))
