"""Monitoring: decisions against the bounds, repeated intervals and their coverage, and the
path from per-look (or per-day) Moments to effects, checked against the frequentist core."""

from __future__ import annotations

import numpy as np
import pytest

from shipit.errors import InputError
from shipit.stats.frequentist import compare
from shipit.stats.gst import GstDesign, spending_bounds
from shipit.stats.moments import Moments
from shipit.stats.monitoring import decide_looks, looks_from_days, monitor, monitor_moments

EQUAL4 = [0.25, 0.5, 0.75, 1.0]


def test_decisions_follow_the_bounds_and_the_first_stop_is_reported() -> None:
    b = spending_bounds(EQUAL4).efficacy  # 4.33, 2.96, 2.36, 2.01
    z = np.array([[1.0, 4.5, -1.0], [3.0, 0.0, -2.5], [0.0, 0.0, -2.4], [0.0, 2.1, 0.0]])
    m = monitor(z, np.ones_like(z), EQUAL4, final=True)
    assert m.decision.tolist() == [
        ["continue", "efficacy", "continue"],
        ["efficacy", "continue", "continue"],
        ["continue", "continue", "efficacy"],
        ["futility", "efficacy", "futility"],
    ]
    assert m.stop_look.tolist() == [1, 0, 2]
    interim = monitor(z[:3], np.ones((3, 3)), EQUAL4[:3])
    assert interim.decision[2].tolist() == ["continue", "continue", "efficacy"]
    np.testing.assert_allclose(m.ci_low, z - b[:, None])
    np.testing.assert_allclose(m.ci_high, z + b[:, None])


def test_one_sided_design_stops_for_futility() -> None:
    design = GstDesign(spending="obf", alpha=0.025, sides=1, futility="power", beta=0.2)
    bounds = design.bounds([0.5, 1.0])
    z = np.array([[bounds.futility[0] - 0.1, bounds.futility[0] + 0.1]]).repeat(2, axis=0)
    z[1] = [0.0, bounds.efficacy[1] + 0.1]
    m = monitor(z, np.ones_like(z), [0.5, 1.0], design, final=True)
    assert m.decision[:, 0].tolist() == ["futility", "futility"]
    assert m.decision[:, 1].tolist() == ["continue", "efficacy"]
    assert np.all(np.isinf(m.ci_high))
    assert decide_looks(z[:, 1], bounds).ravel().tolist() == ["continue", "efficacy"]


def test_repeated_intervals_cover_simultaneously() -> None:
    rng = np.random.default_rng(3)
    theta, t = 0.4, np.array(EQUAL4)
    se = 1 / np.sqrt(400 * t)
    inc = rng.normal(theta * 100, np.sqrt(100), size=(20_000, 4))
    est = np.cumsum(inc, axis=1) / (400 * t)
    m = monitor(est.T, np.broadcast_to(se[:, None], est.T.shape), EQUAL4, final=True)
    cover = ((m.ci_low <= theta) & (theta <= m.ci_high)).all(axis=0).mean()
    assert cover == pytest.approx(0.95, abs=0.005)


def _day(rng: np.random.Generator, label: str, lift: float) -> Moments:
    y = rng.normal(10 + lift, 3, size=300)
    return Moments.from_arrays([label] * y.size, {"y": y})


def test_days_become_cumulative_looks_and_match_the_frequentist_core() -> None:
    rng = np.random.default_rng(9)
    control = Moments.concat(_day(rng, f"d{i}", 0.0) for i in range(4))
    variant = Moments.concat(_day(rng, f"d{i}", 0.5) for i in range(4))
    looks = looks_from_days({"control": control, "treatment": variant})
    assert looks[3]["control"].allclose(control.pooled("control"))
    m = monitor_moments(looks, "mean", control="control", variants="treatment", max_n=2400)
    np.testing.assert_allclose(m.boundaries.fractions, EQUAL4)
    for k, look in enumerate(looks):
        ref = compare(look["control"], look["treatment"], "mean")
        np.testing.assert_allclose(m.estimate[k], ref.abs_effect)
        np.testing.assert_allclose(m.se[k], ref.abs_se)
    rel = monitor_moments(
        looks, "mean", control="control", variants=["treatment"], fractions=EQUAL4, relative=True
    )
    ref = compare(looks[0]["control"], looks[0]["treatment"], "mean")
    np.testing.assert_allclose(rel.estimate[0], ref.rel_effect)


def test_bad_monitoring_inputs_are_named() -> None:
    with pytest.raises(InputError, match="looks of estimates"):
        monitor(np.zeros(3), np.ones(3), EQUAL4)
    with pytest.raises(InputError, match="shape"):
        monitor(np.zeros((4, 2)), np.ones((4, 3)), EQUAL4)
    with pytest.raises(InputError, match="max_n"):
        monitor_moments(
            [Moments.from_arrays(["a", "b"], {"y": [1.0, 2.0]})], "mean", control="a", variants="b"
        )
    with pytest.raises(InputError, match="days"):
        looks_from_days({})
    a = Moments.from_arrays(["d1"], {"y": [1.0]})
    b = Moments.from_arrays(["d2"], {"y": [1.0]})
    with pytest.raises(InputError, match="variant 'b' has days"):
        looks_from_days({"a": a, "b": b})
