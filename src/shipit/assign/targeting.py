"""Targeting evaluated over many units at once, with the same answers as ``Rule.matches``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from shipit._types import BoolArray
from shipit.spec.targeting import AllOf, AnyOf, Condition, Not, Rule, is_missing

__all__ = ["Columns", "match_batch"]

Columns = Mapping[str, Sequence[Any] | npt.NDArray[Any]]


class _Column:
    """One attribute column seen as text, as numbers and as missing flags."""

    def __init__(self, values: Sequence[Any] | npt.NDArray[Any]) -> None:
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
        self.missing = np.fromiter((is_missing(v) for v in items), bool, len(items))
        self.text = np.array(["" if is_missing(v) else str(v) for v in items], dtype=object)
        self.number = np.fromiter((_number(v) for v in items), np.float64, len(items))
        self._lower: npt.NDArray[Any] | None = None

    def lower(self) -> npt.NDArray[Any]:
        if self._lower is None:
            self._lower = np.array([t.lower() for t in self.text], dtype=object)
        return self._lower


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
        pattern = re.compile(rule.regex)
        uniques, inverse = np.unique(col.text.astype(str), return_inverse=True)
        found = np.fromiter((pattern.search(u) is not None for u in uniques), bool, len(uniques))
        ok &= found[inverse.reshape(-1)]
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
            return np.zeros(n, bool) if col is None else _rule(c, col)
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
