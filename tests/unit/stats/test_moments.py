"""Moments: built from rows or sums alike, merged by `+` as a commutative monoid, sliced."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipit.errors import InputError
from shipit.stats import Moments


def test_from_arrays_equals_from_sums(rng: np.random.Generator) -> None:
    groups = rng.choice(["a", "b", "c"], 500)
    y, x = rng.normal(size=500), rng.normal(size=500)
    m = Moments.from_arrays(groups, {"y": y, "x1": x}, labels=["a", "b", "c"])
    n, sums, cross = [], [], []
    for g in ("a", "b", "c"):
        z = np.column_stack([y[groups == g], x[groups == g]])
        n.append(len(z))
        sums.append(z.sum(axis=0))
        cross.append(z.T @ z)
    expected = Moments.from_sums(["a", "b", "c"], ["y", "x1"], n, sums, cross)
    assert m.allclose(expected, rtol=1e-12)
    np.testing.assert_allclose(m.mean("y"), [y[groups == g].mean() for g in "abc"], rtol=1e-12)
    np.testing.assert_allclose(
        m.variance("y"), [y[groups == g].var(ddof=1) for g in "abc"], rtol=1e-10
    )
    cov = [np.cov(y[groups == g], x[groups == g])[0, 1] for g in "abc"]
    np.testing.assert_allclose(m.covariance("y", "x1"), cov, rtol=1e-9)


small = st.floats(-100, 100, allow_nan=False).map(lambda v: round(v, 2))


@st.composite
def moments(draw: st.DrawFn) -> Moments:
    size = draw(st.integers(1, 12))
    labels = draw(st.lists(st.sampled_from("abcd"), min_size=size, max_size=size))
    y = draw(st.lists(small, min_size=size, max_size=size))
    return Moments.from_arrays(labels, {"y": y})


@settings(max_examples=80, deadline=None)
@given(a=moments(), b=moments(), c=moments())
def test_addition_is_associative_and_commutative(a: Moments, b: Moments, c: Moments) -> None:
    left, right = (a + b) + c, a + (b + c)
    assert left.allclose(right[list(left.labels)], rtol=1e-12, atol=1e-9)
    ab, ba = a + b, b + a
    assert ab.allclose(ba[list(ab.labels)], rtol=1e-12, atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(
    y=st.lists(small, min_size=2, max_size=30),
    cut=st.integers(0, 30),
)
def test_sum_of_parts_equals_moments_of_the_whole(y: list[float], cut: int) -> None:
    cut = min(cut, len(y))
    whole = Moments.from_arrays(["g"] * len(y), {"y": y})
    parts = Moments.from_arrays(["g"] * cut, {"y": y[:cut]}, labels=["g"]) + Moments.from_arrays(
        ["g"] * (len(y) - cut), {"y": y[cut:]}, labels=["g"]
    )
    assert whole.allclose(parts, rtol=1e-12, atol=1e-9)


def test_slicing_by_label_position_and_column(rng: np.random.Generator) -> None:
    m = Moments.from_arrays(
        rng.choice(["a", "b", "c"], 100),
        {"y": rng.normal(size=100), "x1": rng.normal(size=100)},
        labels=["a", "b", "c"],
    )
    assert m["b"].labels == ("b",)
    np.testing.assert_array_equal(m[["c", "a"]].n, m.n[[2, 0]])
    np.testing.assert_array_equal(m.take([True, False, True]).n, m.n[[0, 2]])
    only_y = m.select(["y"])
    assert only_y.names == ("y",)
    np.testing.assert_array_equal(only_y.sum("y"), m.sum("y"))
    assert m.pooled().n[0] == 100
    with pytest.raises(InputError, match="no group 'z'"):
        m["z"]


def test_frozen_and_bad_shapes() -> None:
    m = Moments.from_sums(["a"], ["y"], [3], [[2.0]], [[[2.0]]])
    with pytest.raises(ValueError, match="read-only"):
        m.matrix[0, 0, 0] = 5
    with pytest.raises(InputError, match="shape"):
        Moments(("a",), ("y",), np.zeros((1, 3, 3)))
    with pytest.raises(InputError, match="cannot add"):
        _ = m + Moments.from_sums(["a"], ["x"], [3], [[2.0]], [[[2.0]]])


def test_variance_of_values_far_from_zero_survives_accumulation() -> None:
    # 5·10⁴ ± 1 summed unit by unit loses ~1e-4 of the variance to rounding; accumulating
    # about the group mean keeps it to the one rounding the raw representation needs.
    rng = np.random.default_rng(11)
    y = 5e4 + rng.normal(size=200_000)
    x = 2e4 + 0.5 * (y - 5e4) + rng.normal(size=y.size)
    groups = np.where(rng.random(y.size) < 0.5, "a", "b")
    m = Moments.from_arrays(groups, {"y": y, "x": x}, labels=["a", "b"])
    for i, g in enumerate(["a", "b"]):
        ya, xa = y[groups == g], x[groups == g]
        np.testing.assert_allclose(m.variance("y")[i], ya.var(ddof=1), rtol=5e-6)
        np.testing.assert_allclose(m.covariance("x", "y")[i], np.cov(xa, ya)[0, 1], rtol=2e-5)
        np.testing.assert_allclose(m.mean("y")[i], ya.mean(), rtol=1e-13)


@pytest.mark.parametrize("value", [0.1, 0.3, 1.1, 9.99, 123.456])
@pytest.mark.parametrize("n", [10, 37, 1000, 100_000])
def test_constant_values_have_exactly_zero_variance(value: float, n: int) -> None:
    # Sums accumulated one unit at a time, as a database does: Σy² − (Σy)²/n is then a
    # rounding residue (≈1e-17..1e-10), which used to pass for a variance.
    y = np.full(n, value)
    total, total_sq = np.cumsum(y)[-1], np.cumsum(y * y)[-1]
    m = Moments.from_sums(["a"], ["y"], [n], [[total]], [[[total_sq]]])
    assert m.variance("y")[0] == 0.0
    assert Moments.from_arrays(["a"] * n, {"y": y}).variance("y")[0] == 0.0


def test_from_arrays_codes_integer_and_string_groups_alike() -> None:
    y = np.arange(6.0)
    by_int = Moments.from_arrays(np.array([2, 1, 2, 1, 3, 2]), {"y": y})
    by_str = Moments.from_arrays(["2", "1", "2", "1", "3", "2"], {"y": y})
    assert by_int.labels == ("2", "1", "3")
    assert by_int.allclose(by_str, rtol=0)
    np.testing.assert_array_equal(by_int.n, [3, 2, 1])
    np.testing.assert_array_equal(by_int.sum("y"), [0 + 2 + 5, 1 + 3, 4])
    with pytest.raises(InputError, match="'3' is not among labels"):
        Moments.from_arrays([2, 1, 3], {"y": [1.0, 2.0, 3.0]}, labels=["1", "2"])
