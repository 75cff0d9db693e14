"""Targeting rules and the conservative overlap test."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from shipit.spec.targeting import Condition, may_overlap

_adapter: TypeAdapter[Any] = TypeAdapter(Condition)


def cond(data: Any) -> Any:
    return _adapter.validate_python(data)


@pytest.mark.parametrize(
    ("rule", "attrs", "expected"),
    [
        ({"attribute": "c", "eq": "US"}, {"c": "US"}, True),
        ({"attribute": "c", "eq": "US"}, {"c": "FR"}, False),
        ({"attribute": "c", "eq": "US"}, {}, False),
        ({"attribute": "c", "ne": "US"}, {"c": None}, False),
        ({"attribute": "c", "in": ["US", "CA"]}, {"c": "CA"}, True),
        ({"attribute": "c", "not_in": ["US"]}, {"c": "CA"}, True),
        ({"attribute": "age", "gte": 18, "lt": 65}, {"age": "30"}, True),
        ({"attribute": "age", "gte": 18, "lt": 65}, {"age": 65}, False),
        ({"attribute": "age", "gt": 1}, {"age": "abc"}, False),
        ({"attribute": "age", "eq": 3}, {"age": "3.0"}, True),
        ({"attribute": "beta", "eq": True}, {"beta": "true"}, True),
        ({"attribute": "beta", "eq": True}, {"beta": 1}, False),
        ({"attribute": "e", "regex": "@x\\.com$"}, {"e": "a@x.com"}, True),
        ({"attribute": "age", "gt": 1}, {"age": float("nan")}, False),
        (
            {"all": [{"attribute": "a", "eq": 1}, {"attribute": "b", "eq": 2}]},
            {"a": 1, "b": 2},
            True,
        ),
        ({"any": [{"attribute": "a", "eq": 1}, {"attribute": "b", "eq": 2}]}, {"b": 2}, True),
        ({"not": {"attribute": "a", "eq": 1}}, {"a": 2}, True),
        ({"not": {"attribute": "a", "eq": 1}}, {}, True),
    ],
)
def test_rules_match(rule: Any, attrs: dict[str, Any], expected: bool) -> None:
    assert cond(rule).matches(attrs) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (None, {"attribute": "c", "eq": "US"}, True),
        ({"attribute": "c", "eq": "US"}, {"attribute": "c", "eq": "FR"}, False),
        ({"attribute": "c", "in": ["US", "CA"]}, {"attribute": "c", "in": ["CA"]}, True),
        ({"attribute": "c", "eq": "US"}, {"attribute": "c", "not_in": ["US"]}, False),
        ({"attribute": "age", "lt": 18}, {"attribute": "age", "gte": 18}, False),
        ({"attribute": "age", "lte": 18}, {"attribute": "age", "gte": 18}, True),
        ({"attribute": "c", "eq": "US"}, {"attribute": "d", "eq": "FR"}, True),
        (
            {"all": [{"attribute": "p", "eq": "ios"}, {"attribute": "c", "eq": "US"}]},
            {"any": [{"attribute": "c", "eq": "FR"}]},
            False,
        ),
        (
            {"any": [{"attribute": "c", "eq": "US"}, {"attribute": "c", "eq": "FR"}]},
            {"attribute": "c", "eq": "FR"},
            True,
        ),
    ],
)
def test_overlap_is_conservative(a: Any, b: Any, expected: bool) -> None:
    ca = None if a is None else cond(a)
    cb = None if b is None else cond(b)
    assert may_overlap(ca, cb) is expected
    assert may_overlap(cb, ca) is expected


_SCALARS = st.sampled_from(["US", "1", "1.0", "true", "True", "x", 1, 1.0, 2, 0.5, True, False])
_CANDIDATES = ["US", "1", "1.0", "1.5", "0.5", "true", "True", "TRUE", "false", "x", "2", "2.0"]
_CANDIDATES_ALL: list[Any] = [*_CANDIDATES, 1, 1.0, 2, 0.5, True, False, -1, 3]


@st.composite
def _rules(draw: st.DrawFn) -> Any:
    op = draw(st.sampled_from(["eq", "ne", "in", "not_in", "gt", "lte"]))
    if op in ("in", "not_in"):
        value: Any = draw(st.lists(_SCALARS, min_size=1, max_size=3))
    elif op in ("gt", "lte"):
        value = draw(st.sampled_from([0, 0.5, 1, 2]))
    else:
        value = draw(_SCALARS)
    return cond({"attribute": "c", op: value})


@settings(max_examples=300, deadline=None)
@given(_rules(), _rules())
def test_overlap_is_sound(a: Any, b: Any) -> None:
    """When some value satisfies both rules, the overlap test must say they may overlap."""
    both = [v for v in _CANDIDATES_ALL if a.matches({"c": v}) and b.matches({"c": v})]
    if both:
        assert may_overlap(a, b), both
        assert may_overlap(b, a), both


@pytest.mark.parametrize(
    ("a", "b"),
    [({"eq": 1}, {"eq": 1.0}), ({"eq": 1}, {"eq": "1.0"}), ({"eq": True}, {"in": ["true"]})],
)
def test_equal_values_written_differently_overlap(a: Any, b: Any) -> None:
    assert may_overlap(cond({"attribute": "c", **a}), cond({"attribute": "c", **b}))
