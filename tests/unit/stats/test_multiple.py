"""Corrections equal statsmodels' multipletests; NaN p-values stay out of the family."""

from __future__ import annotations

import gc
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from shipit.errors import InputError
from shipit.stats.multiple import adjust_p_values

SM = {
    "bonferroni": "bonferroni",
    "holm": "holm",
    "bh": "fdr_bh",
    "sidak": "sidak",
    "holm_sidak": "holm-sidak",
    "hochberg": "simes-hochberg",
    "hommel": "hommel",
    "by": "fdr_by",
}


_P = st.one_of(
    st.floats(0.0, 1.0),
    st.just(float("nan")),
    st.sampled_from([0.0, 1.0, 0.01, 0.05, 1e-300]),  # ties and edges
)


@settings(max_examples=200, deadline=None)
@given(
    p=st.lists(_P, min_size=1, max_size=60),
    method=st.sampled_from(sorted(SM)),
)
def test_matches_multipletests_without_the_nans(p: list[float], method: str) -> None:
    arr = np.array(p)
    out = adjust_p_values(arr, method)
    keep = ~np.isnan(arr)
    assert np.all(np.isnan(out[~keep]))
    if keep.any():
        # statsmodels' Šidák of p = 1 takes log(0); its Holm collects garbage on every call,
        # which in a long test process costs more than the whole comparison.
        with np.errstate(divide="ignore"), mock.patch.object(gc, "collect", return_value=0):
            ref = multipletests(arr[keep], method=SM[method])[1]
        np.testing.assert_allclose(out[keep], ref, rtol=1e-12)


def test_known_values() -> None:
    p = [0.01, 0.04, 0.03, np.nan]
    np.testing.assert_allclose(adjust_p_values(p, "bonferroni")[:3], [0.03, 0.12, 0.09])
    np.testing.assert_allclose(adjust_p_values(p, "holm")[:3], [0.03, 0.06, 0.06])
    np.testing.assert_allclose(adjust_p_values(p, "bh")[:3], [0.03, 0.04, 0.04])
    np.testing.assert_array_equal(adjust_p_values(p, "none")[:3], p[:3])


def test_no_garbage_collection_per_call() -> None:
    # statsmodels' Holm calls gc.collect() on every call; ours must not.
    runs: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            runs.append(1)

    gc.callbacks.append(count)
    try:
        for method in ("bonferroni", "holm", "bh"):
            adjust_p_values(np.linspace(0.001, 0.5, 50), method)
    finally:
        gc.callbacks.remove(count)
    assert runs == []


def test_bad_method_and_values() -> None:
    with pytest.raises(InputError, match="correction 'sidakk'"):
        adjust_p_values([0.1], "sidakk")
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        adjust_p_values([1.5], "holm")
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        adjust_p_values([0.2, np.inf], "bh")


def test_new_corrections_known_values() -> None:
    """Šidák, Hochberg and BY on a small family, against their closed forms."""
    p = np.array([0.01, 0.04, 0.03])
    np.testing.assert_allclose(adjust_p_values(p, "sidak"), 1 - (1 - p) ** 3, rtol=1e-12)
    # Hochberg step-up: min over k' ≥ k of (m − k' + 1)·p(k'); sorted 0.01, 0.03, 0.04.
    np.testing.assert_allclose(adjust_p_values(p, "hochberg"), [0.03, 0.04, 0.04])
    c = 1 + 1 / 2 + 1 / 3  # BY: BH times Σ 1/i
    np.testing.assert_allclose(adjust_p_values(p, "by"), np.array([0.03, 0.04, 0.04]) * c)
