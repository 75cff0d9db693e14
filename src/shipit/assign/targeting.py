"""Targeting evaluated over many units at once, with the same answers as ``Rule.matches``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from shipit._types import BoolArray, IntArray
from shipit.spec.targeting import AllOf, AnyOf, Condition, Not, Rule, is_missing, regex_search

__all__ = ["Columns", "match_batch"]

Columns = Mapping[str, Sequence[Any] | npt.NDArray[Any]]


class _Column:
    """One attribute column, factorized: each distinct value seen once as text, as a number
    and as a missing flag, plus the code of each unit's value. Rules run on the distinct
    values and are spread to units by the codes, so a column of a million units with a few
    hundred distinct values costs one pass."""

    def __init__(self, values: Sequence[Any] | npt.NDArray[Any]) -> None:
        uniques, self.codes = _factorize(values)
        self.missing = np.fromiter((is_missing(v) for v in uniques), bool, len(uniques))
        self.text = np.array(["" if is_missing(v) else str(v) for v in uniques], dtype=object)
        self.number = np.fromiter((_number(v) for v in uniques), np.float64, len(uniques))
        self._lower: npt.NDArray[Any] | None = None

    def lower(self) -> npt.NDArray[Any]:
        if self._lower is None:
            self._lower = np.array([t.lower() for t in self.text], dtype=object)
        return self._lower


def _factorize(values: Sequence[Any] | npt.NDArray[Any]) -> tuple[list[Any], IntArray]:
    """Distinct values (as Python objects) and the code of each element.

    Typed numpy columns use ``np.unique``; other columns a dictionary keyed by (type, value),
    so that 1, 1.0 and True, which compare equal but print differently, stay apart.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "biufUS":
        uniques, inverse = np.unique(values, return_inverse=True)
        return uniques.tolist(), inverse.reshape(-1).astype(np.int64, copy=False)
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    try:
        distinct = list(dict.fromkeys(items))
    except TypeError:  # an unhashable value (a list from JSON): every element on its own
        return items, np.arange(len(items), dtype=np.int64)
    if all(v is None or type(v) is str for v in distinct):  # text from CSV: nothing merged
        lookup = {v: i for i, v in enumerate(distinct)}
        return distinct, np.fromiter(map(lookup.__getitem__, items), np.int64, len(items))
    index: dict[tuple[type, Any], int] = {}
    try:
        codes = np.fromiter(
            (index.setdefault((type(v), v), len(index)) for v in items), np.int64, len(items)
        )
    except TypeError:
        return items, np.arange(len(items), dtype=np.int64)
    return [v for _, v in index], codes


def _number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _same(col: _Column, expected: Any) -> BoolArray:
    if isinstance(expected, bool):
        return np.asarray(col.lower() == str(expected).lower(), dtype=bool)
    if isinstance(expected, int | float):
        return np.asarray(col.number == expected, dtype=bool)
    return np.asarray(col.text == expected, dtype=bool)


def _rule(rule: Rule, col: _Column) -> BoolArray:
    """The rule on each distinct value of the column."""
    ok = ~col.missing
    if rule.eq is not None:
        ok &= _same(col, rule.eq)
    if rule.ne is not None:
        ok &= ~_same(col, rule.ne)
    if rule.in_ is not None:
        hit = np.zeros(len(ok), bool)
        for v in rule.in_:
            hit |= _same(col, v)
        ok &= hit
    if rule.not_in is not None:
        for v in rule.not_in:
            ok &= ~_same(col, v)
    with np.errstate(invalid="ignore"):
        if rule.gt is not None:
            ok &= col.number > rule.gt
        if rule.gte is not None:
            ok &= col.number >= rule.gte
        if rule.lt is not None:
            ok &= col.number < rule.lt
        if rule.lte is not None:
            ok &= col.number <= rule.lte
    if rule.regex is not None:
        pattern = rule.regex
        ok &= np.fromiter((regex_search(pattern, t) for t in col.text), bool, len(ok))
    return ok


def match_batch(condition: Condition | None, columns: Columns, n: int) -> BoolArray:
    """Which of ``n`` units satisfy ``condition``, given attribute columns of length ``n``."""
    cache: dict[str, _Column] = {}

    def column(name: str) -> _Column | None:
        if name not in columns:
            return None
        if name not in cache:
            cache[name] = _Column(columns[name])
        return cache[name]

    def walk(c: Condition) -> BoolArray:
        if isinstance(c, Rule):
            col = column(c.attribute)
            return np.zeros(n, bool) if col is None else _rule(c, col)[col.codes]
        if isinstance(c, AllOf):
            out = np.ones(n, bool)
            for sub in c.all:
                out &= walk(sub)
            return out
        if isinstance(c, AnyOf):
            out = np.zeros(n, bool)
            for sub in c.any:
                out |= walk(sub)
            return out
        assert isinstance(c, Not)
        return ~walk(c.not_)

    return np.ones(n, bool) if condition is None else walk(condition)
