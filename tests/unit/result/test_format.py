"""The one number formatter: the forms each number takes, missing values, and its examples."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shipit.result import format as fmt

finite = st.floats(min_value=-1e6, max_value=1e6)
probability = st.floats(min_value=0.0, max_value=1.0)


def test_examples_in_the_docstrings_hold() -> None:
    failed, tried = doctest.testmod(fmt)
    assert tried > 10
    assert failed == 0


@given(probability, st.sampled_from(["p", "adjusted p", "p_worse"]))
def test_p_equals_is_the_verdict_reasons_form(p: float, name: str) -> None:
    # the form decide's reasons have always used: underflow reads "< 1e-300", else 2 digits
    expected = f"{name} < 1e-300" if p == 0 else f"{name} = {p:.2g}"
    assert fmt.p_equals(p, name) == expected
    assert fmt.p_equals(p) == fmt.p_equals(p, "p")


@given(probability)
def test_p_value_keeps_two_significant_digits_and_never_prints_zero(p: float) -> None:
    text = fmt.p_value(p)
    assert text != "0"
    if p > 0:
        assert float(text) == pytest.approx(p, rel=0.05)
    else:
        assert text == "<1e-300"


@given(finite)
def test_percentages_read_back_to_the_number(x: float) -> None:
    assert float(fmt.pct(x).rstrip("%")) / 100 == pytest.approx(x, abs=5e-5, rel=1e-9)
    assert fmt.pct(x)[0] in "+-"
    assert fmt.share(abs(x))[0] not in "+-"
    assert fmt.pct(x, 1) == f"{100 * x:+.1f}%"  # the same as scaling then writing


def test_every_formatter_writes_a_missing_number_as_the_dash() -> None:
    one_arg = [fmt.p_value, fmt.pct, fmt.share, fmt.pct_sig, fmt.num, fmt.signed, fmt.fixed]
    one_arg += [fmt.count, fmt.points, fmt.effect]
    assert {f(None) for f in one_arg} == {fmt.MISSING}
    assert fmt.interval(None, 0.1) == fmt.interval(0.1, None) == fmt.MISSING
    assert fmt.estimate(None, None, None) == fmt.MISSING
    assert fmt.p_equals(None) == "p = —"


def test_numbers_counts_and_effects_in_their_units() -> None:
    assert fmt.num(3) == "3"
    assert fmt.num(1234567) == "1,234,567"
    assert fmt.num(False) == "no"
    assert fmt.num(1234567.0) == "1.235e+06"
    assert fmt.count(155_000.4) == "155,000"
    assert fmt.effect(-0.0213, relative=True) == "-2.13%"
    assert fmt.effect(-12.5, relative=False) == "-12.5"
    assert fmt.interval(0.5, 2, fmt.num) == "[0.5, 2]"
    assert fmt.estimate(0.05, 0.01, 0.09) == "+5.00% [+1.00%, +9.00%]"
    assert fmt.fixed(2.345, 1) == "2.3"
    assert fmt.pct_sig(0.01234) == "1.23%"


@given(probability, st.sampled_from([0.01, 0.05, 0.1]))
def test_a_p_value_is_never_rounded_onto_or_across_alpha(p: float, alpha: float) -> None:
    shown = float(fmt.p_value(p, alpha).lstrip("<"))
    if p != alpha and p > 0:
        assert (shown < alpha) == (p < alpha)
        assert shown != alpha
        assert shown == pytest.approx(p, rel=0.05)


def test_a_p_value_just_above_alpha_keeps_its_digits() -> None:
    assert fmt.p_equals(0.0504, alpha=0.05) == "p = 0.0504"
    assert fmt.p_equals(0.0496, alpha=0.05) == "p = 0.0496"
    assert fmt.p_equals(0.012, alpha=0.05) == "p = 0.012"
