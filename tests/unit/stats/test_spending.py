"""Spending functions against their closed forms, and their contract (monotone, all at t=1)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from shipit.errors import InputError
from shipit.stats.spending import SPENDING_KINDS, check_fractions, spent


def test_obf_type_matches_its_closed_form() -> None:
    t = np.array([0.1, 0.25, 0.5, 0.9])
    expected = 2 * (1 - sps.norm.cdf(sps.norm.ppf(1 - 0.025 / 2) / np.sqrt(t)))
    np.testing.assert_allclose(spent(t, 0.025, "obf"), expected, rtol=1e-9, atol=1e-15)


def test_pocock_and_power_types_match_their_closed_forms() -> None:
    t = np.array([0.2, 0.5, 0.7])
    np.testing.assert_allclose(spent(t, 0.05, "pocock"), 0.05 * np.log(1 + (np.e - 1) * t))
    np.testing.assert_allclose(spent(t, 0.05, "power", rho=3.0), 0.05 * t**3)


@given(
    kind=st.sampled_from(SPENDING_KINDS),
    level=st.floats(0.001, 0.5),
    ts=st.lists(st.floats(0.0, 1.5), min_size=2, max_size=20),
)
def test_spending_is_monotone_and_spends_everything_at_one(
    kind: str, level: float, ts: list[float]
) -> None:
    t = np.sort(np.array(ts))
    a = spent(t, level, kind, rho=1.5)
    assert np.all(np.diff(a) >= -1e-15)
    assert np.all((a >= 0) & (a <= level + 1e-15))
    assert float(spent(1.0, level, kind, rho=1.5)) == pytest.approx(level)
    assert float(spent(0.0, level, kind, rho=1.5)) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": 0.0, "kind": "obf"}, "error level"),
        ({"level": 0.05, "kind": "linear"}, "unknown spending function 'linear'"),
        ({"level": 0.05, "kind": "power", "rho": -1.0}, "rho"),
    ],
)
def test_bad_spending_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        spent(0.5, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("fractions", [[], [0.0, 1.0], [0.5, 0.5], [0.6, 0.3], [0.5, np.nan]])
def test_bad_fractions_are_rejected(fractions: list[float]) -> None:
    with pytest.raises(InputError, match="fractions"):
        check_fractions(fractions)
