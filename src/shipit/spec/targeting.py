"""Targeting rules on unit attributes: equality, membership, ranges and regex, joined by
all/any/not, plus a conservative overlap test used to detect conflicting experiments."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any, TypeAlias

import re2
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

__all__ = [
    "MAX_PATTERN",
    "AllOf",
    "AnyOf",
    "Condition",
    "Not",
    "Rule",
    "compile_regex",
    "is_missing",
    "may_overlap",
    "regex_search",
]

Scalar: TypeAlias = str | int | float | bool
# Longest regex accepted in a rule.
MAX_PATTERN = 1000


@lru_cache(maxsize=1024)
def compile_regex(pattern: str) -> re2._Regexp[str]:
    """``pattern`` compiled by RE2: matching takes time linear in the text, whatever the
    pattern (no catastrophic backtracking); ``re2.error`` when RE2 cannot compile it."""
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)


def regex_search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` (RE2) occurs in ``text``; text that is not valid Unicode (a lone
    surrogate) is matched with the bad characters replaced."""
    compiled = compile_regex(pattern)
    try:
        return compiled.search(text) is not None
    except UnicodeEncodeError:
        clean = text.encode("utf-8", "replace").decode("utf-8")
        return compiled.search(clean) is not None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Rule(_Frozen):
    """One test on one attribute; several operators in one rule must all hold.

    A unit without the attribute never matches (except through ``not``).
    """

    attribute: str = Field(min_length=1)
    eq: Scalar | None = None
    ne: Scalar | None = None
    in_: tuple[Scalar, ...] | None = Field(default=None, alias="in")
    not_in: tuple[Scalar, ...] | None = None
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    regex: str | None = None

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False
    )

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            if len(value) > MAX_PATTERN:
                raise ValueError(f"regex of {len(value)} characters; the limit is {MAX_PATTERN}")
            try:
                compile_regex(value)
            except re2.error as exc:
                first = exc.args[0] if exc.args else exc
                reason = first.decode() if isinstance(first, bytes) else first
                raise ValueError(
                    f"invalid regular expression {value!r}: {reason} (RE2 syntax: no "
                    "backreferences or lookarounds)"
                ) from exc
        return value

    @model_validator(mode="after")
    def _has_operator(self) -> Rule:
        if not self.operators():
            raise ValueError(
                "a rule needs an operator: eq, ne, in, not_in, gt, gte, lt, lte or regex"
            )
        lo, hi = self.numeric_bounds()
        if lo[0] > hi[0] or (lo[0] == hi[0] and not (lo[1] and hi[1])):
            raise ValueError(f"range on {self.attribute!r} is empty")
        return self

    def operators(self) -> dict[str, Any]:
        """The operators this rule sets, by YAML name."""
        names = ("eq", "ne", "in_", "not_in", "gt", "gte", "lt", "lte", "regex")
        return {n.rstrip("_"): getattr(self, n) for n in names if getattr(self, n) is not None}

    def numeric_bounds(self) -> tuple[tuple[float, bool], tuple[float, bool]]:
        """(lower, inclusive), (upper, inclusive) implied by gt/gte/lt/lte."""
        lo: tuple[float, bool] = (-math.inf, True)
        hi: tuple[float, bool] = (math.inf, True)
        if self.gt is not None:
            lo = (self.gt, False)
        if self.gte is not None and self.gte > lo[0]:
            lo = (self.gte, True)
        if self.lt is not None:
            hi = (self.lt, False)
        if self.lte is not None and self.lte < hi[0]:
            hi = (self.lte, True)
        return lo, hi

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        """Whether one unit's attributes satisfy the rule."""
        value = attributes.get(self.attribute)
        if is_missing(value):
            return False
        # Every operator must hold: return at the first that does not (single-call hot path).
        if self.eq is not None and not _same(value, self.eq):
            return False
        if self.ne is not None and _same(value, self.ne):
            return False
        if self.in_ is not None and not any(_same(value, v) for v in self.in_):
            return False
        if self.not_in is not None and any(_same(value, v) for v in self.not_in):
            return False
        gt, gte, lt, lte = self.gt, self.gte, self.lt, self.lte
        if gt is not None or gte is not None or lt is not None or lte is not None:
            number = _number(value)
            if (
                number is None
                or (gt is not None and not number > gt)
                or (gte is not None and not number >= gte)
                or (lt is not None and not number < lt)
                or (lte is not None and not number <= lte)
            ):
                return False
        return self.regex is None or regex_search(self.regex, str(value))


def is_missing(value: Any) -> bool:
    """None and NaN count as a missing attribute."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _same(value: Any, expected: Scalar) -> bool:
    """Equality that lets CSV strings match numbers and booleans written in YAML."""
    if isinstance(expected, bool):
        return value is expected or str(value).lower() == str(expected).lower()
    if isinstance(expected, int | float):
        number = _number(value)
        return number is not None and number == expected
    return str(value) == expected


def _is_bool(value: Any) -> bool:
    """Python and numpy booleans (a numpy bool is not a ``bool`` but must act like one)."""
    return isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b"


def _number(value: Any) -> float | None:
    if _is_bool(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class AllOf(_Frozen):
    """Every condition holds."""

    all: tuple[Condition, ...] = Field(min_length=1)

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        """Whether one unit's attributes satisfy every condition."""
        return all(c.matches(attributes) for c in self.all)


class AnyOf(_Frozen):
    """At least one condition holds."""

    any: tuple[Condition, ...] = Field(min_length=1)

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        """Whether one unit's attributes satisfy some condition."""
        return any(c.matches(attributes) for c in self.any)


class Not(_Frozen):
    """The condition does not hold."""

    not_: Condition = Field(alias="not")

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False
    )

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        """Whether one unit's attributes fail the inner condition."""
        return not self.not_.matches(attributes)


def _member(value: Any) -> str | None:
    """Which kind of condition a mapping (or model) is, from its keys."""
    if isinstance(value, BaseModel):
        return f"<{type(value).__name__.removesuffix('Of').lower()}>"
    if isinstance(value, dict):
        for key, tag in (("all", "<all>"), ("any", "<any>"), ("not", "<not>")):
            if key in value and "attribute" not in value:
                return tag
        return "<rule>"
    return None


Condition: TypeAlias = Annotated[
    Annotated[Rule, Tag("<rule>")]
    | Annotated[AllOf, Tag("<all>")]
    | Annotated[AnyOf, Tag("<any>")]
    | Annotated[Not, Tag("<not>")],
    Discriminator(
        _member,
        custom_error_type="condition",
        custom_error_message="expected a rule (attribute: ...) or all/any/not",
    ),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


def _conjuncts(condition: Condition | None) -> list[Rule]:
    """Rules that must all hold for the condition to hold (a sound under-approximation)."""
    if condition is None:
        return []
    if isinstance(condition, Rule):
        return [condition]
    if isinstance(condition, AllOf):
        return [r for c in condition.all for r in _conjuncts(c)]
    if isinstance(condition, AnyOf) and len(condition.any) == 1:
        return _conjuncts(condition.any[0])
    return []


def _values(rule: Rule) -> tuple[Scalar, ...] | None:
    """A finite superset of the values a rule allows, or None when unbounded."""
    if rule.eq is not None:
        return (rule.eq,)
    return rule.in_


def _number_of(value: Scalar) -> float | None:
    """The number a spec value stands for (text that parses, or a number; never a bool)."""
    return None if isinstance(value, bool) else _number(value)


def _compatible(a: Scalar, b: Scalar) -> bool:
    """Whether some attribute value equals both ``a`` and ``b`` in the sense of ``_same``
    (1, 1.0 and "1.0" are all met by the value "1.0"; True by "true")."""
    if isinstance(a, bool) or isinstance(b, bool):
        if isinstance(a, bool) and isinstance(b, bool):
            return a is b
        other, flag = (b, a) if isinstance(a, bool) else (a, b)
        return isinstance(other, str) and other.lower() == str(flag).lower()
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    na, nb = _number_of(a), _number_of(b)
    return na is not None and na == nb


def _covers(banned: Scalar, allowed: Scalar) -> bool:
    """Whether every value equal to ``allowed`` is also equal to ``banned``."""
    if isinstance(allowed, bool) or isinstance(banned, bool):
        return type(allowed) is type(banned) and allowed is banned
    if isinstance(allowed, str) and isinstance(banned, str):
        return allowed == banned
    if isinstance(allowed, str):  # text "1.0" is met by the values "1.0" and 1.0 only
        return _number_of(allowed) is not None and _number_of(allowed) == banned
    return not isinstance(banned, str) and float(allowed) == float(banned)


def _rules_disjoint(a: Rule, b: Rule) -> bool:
    va, vb = _values(a), _values(b)
    if va is not None and vb is not None and not any(_compatible(x, y) for x in va for y in vb):
        return True
    for allowed, other in ((va, b), (vb, a)):
        banned = [*(other.not_in or ()), *(() if other.ne is None else (other.ne,))]
        if allowed is not None and all(any(_covers(n, x) for n in banned) for x in allowed):
            return True
    (alo, ahi), (blo, bhi) = a.numeric_bounds(), b.numeric_bounds()
    lo = max(alo, blo, key=lambda t: (t[0], not t[1]))
    hi = min(ahi, bhi, key=lambda t: (t[0], t[1]))
    return lo[0] > hi[0] or (lo[0] == hi[0] and not (lo[1] and hi[1]))


def may_overlap(a: Condition | None, b: Condition | None) -> bool:
    """False only when no unit can satisfy both conditions (checked on rules both require).

    The test is conservative: when in doubt the conditions are taken to overlap.
    """
    for ra in _conjuncts(a):
        for rb in _conjuncts(b):
            if ra.attribute == rb.attribute and _rules_disjoint(ra, rb):
                return False
    return True
