"""The ``interleaving:`` block of a spec: how two rankers' lists are merged and credited.

An interleaving experiment (``type: interleaving``) shows every session one list merged from
the two variants' rankings (the control is ranker A, the other variant ranker B). Each shown
item is logged as an ``impression_event`` naming the ranker that supplied it; clicks are the
``click_event`` events, carrying the session and item they were made on. A session prefers
the ranker whose items got more credited clicks (``credit``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shipit.spec._problems import Loc

__all__ = [
    "DEFAULT_IMPRESSION_EVENT",
    "CreditRules",
    "InterleavingMethod",
    "InterleavingSpec",
    "interleaving_problems",
]

InterleavingMethod = Literal["team_draft"]
DEFAULT_IMPRESSION_EVENT = "interleaving_impression"
_EVENT = Field(min_length=1, max_length=256)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class CreditRules(_Frozen):
    """Which clicks credit a ranker. ``count: items`` credits each clicked item once per
    session (repeated clicks on one item count once); ``count: clicks`` counts every click.
    ``max_position`` (1-based) ignores clicks on items shown below it."""

    count: Literal["items", "clicks"] = "items"
    max_position: int | None = Field(default=None, ge=1, le=10_000)


class InterleavingSpec(_Frozen):
    """How the two rankers are interleaved (``method``), how long the merged list is
    (``length``; default: every distinct item of both), which events are logged, and how
    long after its impression a click still counts (``click_window_minutes``)."""

    method: InterleavingMethod = "team_draft"
    click_event: str = _EVENT
    impression_event: str = Field(default=DEFAULT_IMPRESSION_EVENT, min_length=1, max_length=256)
    length: int | None = Field(default=None, ge=1, le=10_000)
    credit: CreditRules = CreditRules()
    # A click credits only from its impression to this many minutes after it.
    click_window_minutes: int = Field(default=30, ge=1, le=43_200)
    # The planned power of the sessions-needed comparison with an A/B test.
    power: float = Field(default=0.8, gt=0, lt=1)


def interleaving_problems(
    kind: str, block: InterleavingSpec | None, variants: tuple[str, ...]
) -> list[tuple[Loc, str]]:
    """Cross-field rules: ``type: interleaving`` needs the block and exactly two variants
    (the two rankers), and the block belongs to interleaving experiments only."""
    out: list[tuple[Loc, str]] = []
    if kind == "interleaving":
        if block is None:
            out.append(
                (
                    ("interleaving",),
                    "required when type is 'interleaving': give at least "
                    "{click_event: ...} (the event of a click on a shown item)",
                )
            )
        if len(variants) != 2:
            out.append(
                (
                    ("variants",),
                    f"an interleaving experiment compares exactly two rankers; got "
                    f"{len(variants)} variants ({', '.join(variants)})",
                )
            )
    elif block is not None:
        out.append(
            (
                ("interleaving",),
                f"only for type 'interleaving' (this experiment's type is {kind!r})",
            )
        )
    if block is not None and block.click_event == block.impression_event:
        out.append(
            (
                ("interleaving", "click_event"),
                f"must differ from impression_event ({block.impression_event!r})",
            )
        )
    return out
