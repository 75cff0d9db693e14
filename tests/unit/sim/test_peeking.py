"""The peeking simulator: naive peeking inflates the false positive rate several times,
the always-valid and group-sequential methods hold alpha (10,000 experiments × 100 looks)."""

from __future__ import annotations

import pytest

from shipit.errors import InputError
from shipit.sim.peeking import METHODS, simulate_peeking


def test_naive_peeking_inflates_and_sequential_methods_hold_alpha() -> None:
    r = simulate_peeking(experiments=10_000, looks=100, seed=4)
    fpr, se = r.false_positive_rate, r.std_error
    assert set(fpr) == set(METHODS)
    assert fpr["naive"] >= 4 * r.alpha
    for method in ("msprt", "asymptotic_cs"):
        assert fpr[method] <= r.alpha + 3 * se[method]
    for method in ("fixed", "gst_obf", "gst_pocock"):
        assert fpr[method] == pytest.approx(r.alpha, abs=4 * se[method] + 0.003)
    rows = r.records()
    assert rows[0]["method"] == "naive"
    assert rows[0]["times_alpha"] == pytest.approx(fpr["naive"] / 0.05)


def test_the_simulation_is_seeded() -> None:
    a = simulate_peeking(experiments=500, looks=10, seed=1)
    b = simulate_peeking(experiments=500, looks=10, seed=1)
    assert a == b


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"experiments": 0}, "experiments"), ({"rate": 1.0}, "rate"), ({"alpha": 0.0}, "alpha")],
)
def test_bad_arguments_are_named(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InputError, match=message):
        simulate_peeking(**kwargs)  # type: ignore[arg-type]
