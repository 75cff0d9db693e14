"""Limits a spec must respect before it is stored: nesting depth, size, valid text, and a
JSON round trip that gives the same experiment back.

A spec that breaks one of them is refused with a ``SpecError`` naming the field, so nothing
that a registry, a dashboard or an SDK could choke on is ever stored.
"""

from __future__ import annotations

import json
import math
from typing import Any

from shipit.errors import SpecError
from shipit.spec._problems import Loc, SpecValidationError, format_loc

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_SPEC_BYTES",
    "MAX_TEXT",
    "check_raw",
    "check_storable",
]

# Nesting of mappings and lists in a spec (a targeting ``not`` or ``all`` adds one or two).
MAX_DEPTH = 32
# The stored JSON of one experiment, in bytes.
MAX_SPEC_BYTES = 1_000_000
# Any one text value (names, descriptions, unit ids, patterns).
MAX_TEXT = 10_000
# Values (mappings, lists, scalars) in one spec: YAML aliases must not multiply them.
MAX_NODES = 1_000_000


def _text_problem(text: str) -> str | None:
    if len(text) > MAX_TEXT:
        return f"text of {len(text)} characters; the limit is {MAX_TEXT}"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"text is not valid Unicode ({exc.reason} at position {exc.start})"
    return None


def check_raw(data: Any) -> None:
    """Refuse input nested deeper than ``MAX_DEPTH``, text that is not valid UTF-8 (lone
    surrogates), over-long text and non-finite numbers, before validation."""
    problems: list[tuple[Loc, str]] = []
    stack: list[tuple[Any, Loc]] = [(data, ())]
    seen = 0
    while stack and len(problems) < 20:
        value, loc = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise SpecError(f"the spec holds more than {MAX_NODES} values; it is too large")
        if len(loc) > MAX_DEPTH:
            problems.append((loc[:MAX_DEPTH], f"nested deeper than {MAX_DEPTH} levels"))
            continue
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                problems.append((loc, problem))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append((loc, f"{value} is not a finite number"))
        elif isinstance(value, dict):
            for k, v in value.items():
                name = str(k)
                problem = _text_problem(name)
                if problem:
                    problems.append((loc, f"field name: {problem}"))
                    continue
                stack.append((v, (*loc, name)))
        elif isinstance(value, list | tuple):
            stack.extend((v, (*loc, i)) for i, v in enumerate(value))
    if problems:
        raise SpecValidationError(sorted(problems, key=lambda p: format_loc(p[0])))


def check_storable(experiment: Any) -> str:
    """The experiment's stored JSON, after checking its size and that it loads back to an
    equal experiment; SpecError otherwise."""
    data = experiment.to_dict(with_shared=True)
    try:
        text = json.dumps(data, allow_nan=False, ensure_ascii=False)
        size = len(text.encode("utf-8"))
    except (ValueError, TypeError, RecursionError) as exc:
        raise SpecError(f"{experiment.key}: the spec cannot be stored as JSON: {exc}") from exc
    if size > MAX_SPEC_BYTES:
        raise SpecError(
            f"{experiment.key}: the spec is {size} bytes as JSON; the limit is {MAX_SPEC_BYTES}"
        )
    try:
        again = type(experiment).model_validate(json.loads(text))
    except (ValueError, RecursionError) as exc:
        raise SpecError(f"{experiment.key}: the stored spec would not load back: {exc}") from exc
    if again != experiment:
        raise SpecError(f"{experiment.key}: the spec does not survive a JSON round trip")
    return text
