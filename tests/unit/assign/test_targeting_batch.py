"""Batch targeting gives the same answer as ``Rule.matches`` unit by unit, for every operator
and for the kinds of columns callers pass (lists from CSV/JSON, typed numpy arrays)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from shipit.assign.targeting import match_batch
from shipit.spec.targeting import Condition

_adapter: TypeAdapter[Any] = TypeAdapter(Condition)

RULES: list[dict[str, Any]] = [
    {"attribute": "a", "eq": "1"},
    {"attribute": "a", "eq": 1},
    {"attribute": "a", "eq": 1.5},
    {"attribute": "a", "eq": True},
    {"attribute": "a", "ne": "x"},
    {"attribute": "a", "ne": 0},
    {"attribute": "a", "in": ["x", 1, False]},
    {"attribute": "a", "not_in": ["x", 2.0, True]},
    {"attribute": "a", "gt": 0.5},
    {"attribute": "a", "gte": 1, "lt": 3},
    {"attribute": "a", "lte": -1},
    {"attribute": "a", "regex": "^[x1]"},
    {"attribute": "a", "regex": "rue$"},
    {"not": {"attribute": "a", "eq": "x"}},
    {"any": [{"attribute": "a", "eq": 2}, {"attribute": "b", "in": ["y"]}]},
    {"all": [{"attribute": "a", "gte": 0}, {"not": {"attribute": "b", "regex": "z"}}]},
    {"attribute": "missing_everywhere", "eq": 1},
]

_TEXT = [None, float("nan"), "", "x", "y", "z", "1", "1.0", "2", "-3", "true", "True", "false"]
_VALUES = st.sampled_from([*_TEXT, 0, 1, 2, -3, 1.0, 1.5, 2.0, True, False, " 1 ", "inf", "xyz"])


def _single(condition: Any, columns: dict[str, Any], n: int) -> list[bool]:
    out = []
    for i in range(n):
        attrs = {k: v[i] for k, v in columns.items()}
        out.append(condition.matches(attrs))
    return out


@settings(max_examples=60, deadline=None)
@given(a=st.lists(_VALUES, min_size=1, max_size=40), data=st.data())
def test_lists_of_mixed_values_agree(a: list[Any], data: st.DataObject) -> None:
    b = data.draw(st.lists(_VALUES, min_size=len(a), max_size=len(a)))
    columns = {"a": a, "b": b}
    for rule in RULES:
        condition = _adapter.validate_python(rule)
        batch = match_batch(condition, columns, len(a)).tolist()
        assert batch == _single(condition, columns, len(a)), rule


@pytest.mark.parametrize(
    "column",
    [
        np.array([0, 1, 2, -3, 1, 5]),
        np.array([0.0, 1.0, 1.5, np.nan, -3.0, 2.0]),
        np.array([True, False, True, True, False, False]),
        np.array(["x", "1", "1.0", "true", "", "xyz"]),
        np.array(["x", 1, None, 1.5, True, float("nan")], dtype=object),
    ],
    ids=["int", "float", "bool", "str", "object"],
)
def test_typed_numpy_columns_agree(column: np.ndarray) -> None:
    n = len(column)
    columns = {"a": column, "b": np.array(["y", "z", "y", "x", "zz", "y"])}
    for rule in RULES:
        condition = _adapter.validate_python(rule)
        batch = match_batch(condition, columns, n).tolist()
        assert batch == _single(condition, columns, n), rule


def test_a_million_units_agree_with_single_calls_on_a_sample(rng: np.random.Generator) -> None:
    n = 1_000_000
    country = rng.choice(np.array(["US", "CA", "FR", None], dtype=object), n).tolist()
    age = rng.integers(10, 70, n)
    condition = _adapter.validate_python(
        {"all": [{"attribute": "country", "in": ["US", "CA"]}, {"attribute": "age", "gte": 18}]}
    )
    batch = match_batch(condition, {"country": country, "age": age}, n)
    sample = rng.choice(n, 2_000, replace=False)
    single = [condition.matches({"country": country[i], "age": age[i]}) for i in sample]
    assert batch[sample].tolist() == single
    expected = np.isin(np.array(country, dtype=object), ["US", "CA"]) & (age >= 18)
    np.testing.assert_array_equal(batch, expected)
