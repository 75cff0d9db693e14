"""Group-sequential boundaries against published tables and an independent MVN reference.

References: Lan-DeMets O'Brien-Fleming-type bounds for K = 4 (as tabulated by ldbounds and
gsDesign); Jennison & Turnbull (2000) Tables 2.1/2.3 for the classical Pocock and
O'Brien-Fleming constants and the Pocock sample size ratio. Type I error and power are
checked with scipy's multivariate normal CDF (Corr(Z_j, Z_k) = √(t_j/t_k)) and by seeded
simulation of the Brownian motion at the looks.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from shipit.errors import InputError
from shipit.stats.gst import (
    Boundaries,
    GstDesign,
    classical_bounds,
    crossing_probabilities,
    design_drift,
    expected_fraction,
    inflation,
    spending_bounds,
)
from shipit.stats.spending import spent

EQUAL4 = [0.25, 0.5, 0.75, 1.0]


def _mvn_reject(bounds: Boundaries, drift: float = 0.0) -> float:
    """P(some |Z_k| ≥ b_k) (two-sided) or P(some Z_k ≥ b_k) by the MVN CDF, no recursion."""
    t = bounds.fractions
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    mean = drift * np.sqrt(t)
    b = bounds.efficacy
    low = -b if bounds.sides == 2 else np.full(t.size, -np.inf)
    inside = sps.multivariate_normal(mean=mean, cov=cov).cdf(b, lower_limit=low)
    return float(1.0 - inside)


def _simulate_z(fractions: npt.ArrayLike, paths: int, seed: int, drift: float = 0.0) -> np.ndarray:
    t = np.asarray(fractions, dtype=float)
    dt = np.diff(np.concatenate([[0.0], t]))
    rng = np.random.default_rng(seed)
    s = np.cumsum(rng.normal(drift * dt, np.sqrt(dt), size=(paths, t.size)), axis=1)
    z: np.ndarray = s / np.sqrt(t)
    return z


def test_lan_demets_obf_matches_published_bounds() -> None:
    b = spending_bounds(EQUAL4, alpha=0.05, sides=2, spending="obf")
    np.testing.assert_allclose(b.efficacy, [4.3326, 2.9631, 2.3590, 2.0141], atol=2e-3)
    np.testing.assert_allclose(b.alpha_spent, 2 * spent(EQUAL4, 0.025, "obf"))


@pytest.mark.parametrize(
    ("shape", "looks", "constant"),
    [("obf", 4, 2.024), ("pocock", 4, 2.361), ("obf", 2, 1.977), ("pocock", 2, 2.178)],
)
def test_classical_constants_match_jennison_turnbull(
    shape: str, looks: int, constant: float
) -> None:
    b = classical_bounds(np.arange(1, looks + 1), shape=shape, alpha=0.05)
    assert b.efficacy[-1] == pytest.approx(constant, abs=1e-3)
    if shape == "pocock":
        np.testing.assert_allclose(b.efficacy, constant, atol=1e-3)


def test_pocock_sample_size_ratio_matches_jennison_turnbull() -> None:
    assert inflation(classical_bounds([1, 2, 3, 4], shape="pocock"), beta=0.2) == pytest.approx(
        1.202, abs=1e-3
    )


DESIGNS = {
    "ld_obf": lambda: spending_bounds(EQUAL4, spending="obf"),
    "ld_pocock": lambda: spending_bounds(EQUAL4, spending="pocock"),
    "power_rho2": lambda: spending_bounds(EQUAL4, spending="power", rho=2.0),
    "classical_obf": lambda: classical_bounds(EQUAL4, shape="obf"),
    "classical_pocock": lambda: classical_bounds(EQUAL4, shape="pocock"),
    "drifted_looks": lambda: spending_bounds([0.2, 0.45, 0.8, 1.1], spending="obf"),
    "one_sided": lambda: spending_bounds([0.3, 0.6, 1.0], alpha=0.05, sides=1, spending="power"),
    "ten_looks": lambda: spending_bounds(np.arange(1, 11) / 10, spending="pocock"),
}


@pytest.mark.parametrize("name", list(DESIGNS))
def test_type_one_error_is_alpha_by_mvn_and_by_simulation(name: str) -> None:
    b = DESIGNS[name]()
    assert _mvn_reject(b) == pytest.approx(0.05, abs=5e-4)
    up, low = crossing_probabilities(b.fractions, b.efficacy, b.lower)
    assert up.sum() + low.sum() == pytest.approx(0.05, abs=1e-5)
    z = _simulate_z(b.fractions, 200_000, seed=7)
    hit = np.abs(z) >= b.efficacy if b.sides == 2 else z >= b.efficacy
    assert hit.any(axis=1).mean() == pytest.approx(0.05, abs=0.005)


def test_drifted_looks_spend_the_function_at_the_fractions_reached() -> None:
    t = [0.2, 0.45, 0.8, 0.95]
    b = spending_bounds(t, spending="obf", final=False)
    up, low = crossing_probabilities(t, b.efficacy, -b.efficacy)
    np.testing.assert_allclose(np.cumsum(up + low), 2 * spent(t, 0.025, "obf"), atol=1e-7)
    assert b.alpha_spent[-1] < 0.05  # not the final look: alpha is kept for later


def test_design_drift_gives_the_power_by_mvn() -> None:
    b = spending_bounds(EQUAL4, spending="obf")
    drift = design_drift(b, beta=0.1)
    assert _mvn_reject(b, drift) == pytest.approx(0.9, abs=1e-3)
    fixed = sps.norm.isf(0.025) + sps.norm.isf(0.1)
    assert inflation(b, beta=0.1) == pytest.approx((drift / fixed) ** 2)
    assert 1.0 < inflation(b, beta=0.1) < inflation(spending_bounds(EQUAL4, spending="pocock"))


def test_expected_fraction_matches_simulation() -> None:
    b = spending_bounds(EQUAL4, spending="pocock")
    drift = design_drift(b)
    z = _simulate_z(EQUAL4, 100_000, seed=3, drift=drift)
    hit = np.abs(z) >= b.efficacy
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), 3)
    assert expected_fraction(b, drift) == pytest.approx(np.take(EQUAL4, first).mean(), abs=0.005)


def test_non_binding_futility_keeps_alpha_and_gives_the_power() -> None:
    design = GstDesign(spending="obf", alpha=0.025, sides=1, futility="power", beta=0.2)
    b = design.bounds([0.3, 0.6, 1.0])
    plain = spending_bounds([0.3, 0.6, 1.0], alpha=0.025, sides=1, spending="obf")
    np.testing.assert_allclose(b.efficacy, plain.efficacy)  # non-binding: unchanged
    assert b.futility[-1] == pytest.approx(b.efficacy[-1])
    assert np.all(np.diff(b.futility) > 0)
    assert np.all(b.futility < b.efficacy + 1e-12)
    drift = design_drift(b, beta=0.2)
    z = _simulate_z(b.fractions, 200_000, seed=11, drift=drift)
    eff, fut = z >= b.efficacy, z <= b.futility
    stop = np.where((eff | fut).any(axis=1), (eff | fut).argmax(axis=1), 2)
    power = eff[np.arange(len(z)), stop].mean()
    assert power == pytest.approx(0.8, abs=0.005)
    z0 = _simulate_z(b.fractions, 200_000, seed=12)
    assert (z0 >= b.efficacy).any(axis=1).mean() == pytest.approx(0.025, abs=0.003)
    assert inflation(b) > inflation(plain)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 1.5}, "alpha"),
        ({"sides": 3}, "sides"),
        ({"spending": "hsd"}, "unknown spending function 'hsd'"),
        ({"futility": "obf"}, "futility bounds need a one-sided design"),
        ({"sides": 1, "futility": "obf", "beta": 0.0}, "beta"),
    ],
)
def test_bad_designs_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        spending_bounds(EQUAL4, **kwargs)  # type: ignore[arg-type]


def test_unknown_classical_shape_is_named() -> None:
    with pytest.raises(InputError, match="classical shape 'wt'"):
        classical_bounds(EQUAL4, shape="wt")
    # a one-sided design cannot reject more often than with bounds at 0 (used to be
    # scipy's "f(a) and f(b) must have different signs")
    with pytest.raises(InputError, match=r"alpha 0\.9 is too large"):
        classical_bounds([1, 2], alpha=0.9, sides=1)


def test_classical_bounds_of_one_look_are_the_normal_quantile() -> None:
    for alpha, sides in ((0.05, 2), (0.8, 2), (0.3, 1), (1e-6, 2)):
        b = classical_bounds([1.0], shape="pocock", alpha=alpha, sides=sides).efficacy[0]
        assert b == pytest.approx(sps.norm.isf(alpha / sides), abs=1e-6)


@settings(max_examples=15, deadline=None)
@given(
    gaps=st.lists(st.floats(0.05, 1.0), min_size=1, max_size=5),
    spending=st.sampled_from(["obf", "pocock", "power"]),
    sides=st.sampled_from([1, 2]),
    alpha=st.floats(0.01, 0.2),
)
def test_any_looks_spend_exactly_alpha_by_mvn(
    gaps: list[float], spending: str, sides: int, alpha: float
) -> None:
    t = np.cumsum(gaps) / np.sum(gaps)
    b = spending_bounds(t, alpha=alpha, sides=sides, spending=spending, rho=1.5)
    assert np.all(np.isfinite(b.efficacy))
    assert _mvn_reject(b) == pytest.approx(alpha, abs=5e-4 + 0.005 * alpha)
