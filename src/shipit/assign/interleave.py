"""Team-draft interleaving served to one unit and query, deterministic by hashing.

Team draft (Radlinski, Kurup and Joachims, 2008): the two rankers take turns picking their
highest-ranked item not yet shown; whenever both have picked as often, a coin says who picks
first. Here the coin of slot ``i`` is the hash of (salt, unit, query, i), so a unit asking
the same query gets the same list on every machine; with the same coins the merge is the
one ``shipit.bandits.interleaving.team_draft`` makes (a test holds the two together). A
given ``session_id`` names the session but does not enter the coins: a user repeating a
query in a new session sees the same list again (the unit-clustered interval accounts for
those sessions sharing coins).

The control is ranker A, the other variant ranker B. Units the experiment does not enrol
(traffic, targeting, holdout), a kill switch and forced units see one ranker's list alone
and nothing is logged: only interleaved lists are evidence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shipit.assign.assigner import Assigner, Reason
from shipit.assign.hashing import hash_unit
from shipit.errors import InputError
from shipit.spec.experiment import Experiment
from shipit.spec.interleaving import DEFAULT_IMPRESSION_EVENT

__all__ = ["Interleaved", "interleave", "merge_team_draft", "session_of"]

MAX_ITEMS = 10_000
MAX_ITEM_TEXT = 256
Item = str | int


@dataclass(frozen=True)
class Interleaved:
    """The merged list shown to one session, the ranker (variant key) of each item, and
    whether it was interleaved (False: one ranker's list alone, not logged)."""

    experiment: str
    unit_id: str
    session_id: str
    items: tuple[str, ...]
    rankers: tuple[str, ...]
    interleaved: bool = True
    impression_event: str = DEFAULT_IMPRESSION_EVENT

    def impressions(self, timestamp: datetime | None = None) -> list[dict[str, Any]]:
        """One impression event row per shown item (empty when not interleaved). Event ids
        are the session and position, so showing a session again stores nothing new."""
        if not self.interleaved:
            return []
        ts = (timestamp or datetime.now(UTC)).isoformat()
        digest = hashlib.sha256(f"{self.experiment}\x1f{self.session_id}".encode()).hexdigest()
        return [
            {
                "event_id": f"il-{digest[:32]}-{pos}",
                "unit_id": self.unit_id,
                "event": self.impression_event,
                "timestamp": ts,
                "value": None,
                "properties": {
                    "experiment": self.experiment,
                    "session_id": self.session_id,
                    "item_id": item,
                    "ranker": ranker,
                    "position": pos,
                },
            }
            for pos, (item, ranker) in enumerate(zip(self.items, self.rankers, strict=True), 1)
        ]

    def click_properties(self, item: Item) -> dict[str, str]:
        """The properties a click event on ``item`` carries (its session and item)."""
        text = str(item)
        if text not in self.items:
            raise InputError(f"item {text!r} was not shown in session {self.session_id!r}")
        return {"session_id": self.session_id, "item_id": text}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the server returns."""
        return {
            "experiment": self.experiment,
            "unit_id": self.unit_id,
            "session_id": self.session_id,
            "interleaved": self.interleaved,
            "items": [
                {"item_id": i, "ranker": r, "position": p}
                for p, (i, r) in enumerate(zip(self.items, self.rankers, strict=True), 1)
            ],
        }


def session_of(experiment: str, unit_id: str, query: str) -> str:
    """The default session id of a unit and query: a hash, the same on every machine."""
    text = f"{experiment}\x1f{unit_id}\x1f{query}".encode()
    return hashlib.sha256(text).hexdigest()[:24]


def merge_team_draft(
    ranking_a: Sequence[str], ranking_b: Sequence[str], length: int, coin: Callable[[int], bool]
) -> tuple[list[str], list[int]]:
    """Team draft of two rankings of distinct items: the merged items and the team of each
    (0 = A, 1 = B). ``coin(slot)`` is True when A picks first at a slot where both teams
    are the same size."""
    used: set[str] = set()
    items: list[str] = []
    teams: list[int] = []
    size = [0, 0]
    at = [0, 0]
    lists = (ranking_a, ranking_b)
    for slot in range(length):
        for t in (0, 1):
            while at[t] < len(lists[t]) and lists[t][at[t]] in used:
                at[t] += 1
        has_a, has_b = at[0] < len(ranking_a), at[1] < len(ranking_b)
        if not (has_a or has_b):
            break
        first_a = coin(slot)  # drawn at every slot, as the batch version does
        if has_a and has_b:
            team = 0 if size[0] < size[1] or (size[0] == size[1] and first_a) else 1
        else:
            team = 0 if has_a else 1
        pick = lists[team][at[team]]
        used.add(pick)
        items.append(pick)
        teams.append(team)
        size[team] += 1
    return items, teams


def _ranking(name: str, given: Any) -> list[str]:
    if isinstance(given, str | bytes) or not isinstance(given, Sequence):
        raise InputError(f"rankings.{name}: a list of item ids, got {type(given).__name__}")
    if not given:
        raise InputError(f"rankings.{name}: the ranking is empty; give at least one item")
    if len(given) > MAX_ITEMS:
        raise InputError(f"rankings.{name}: {len(given)} items; the limit is {MAX_ITEMS}")
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(given):
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise InputError(f"rankings.{name}[{i}]: an item id is text or an integer")
        text = str(item)
        if not text or len(text) > MAX_ITEM_TEXT:
            raise InputError(
                f"rankings.{name}[{i}]: an item id has 1 to {MAX_ITEM_TEXT} characters"
            )
        if text in seen:
            raise InputError(
                f"rankings.{name}[{i}]: item {text!r} is listed twice (also at [{seen[text]}])"
            )
        seen[text] = i
        out.append(text)
    return out


def interleave(
    experiment: Experiment,
    unit_id: str | int,
    query: str,
    rankings: Mapping[str, Sequence[Item]],
    *,
    attributes: Mapping[str, Any] | None = None,
    session_id: str | None = None,
    assigner: Assigner | None = None,
) -> Interleaved:
    """The list shown to ``unit_id`` for ``query``: the team-draft merge of the two
    variants' rankings (``rankings`` maps each variant key to its items, best first).

    Raises InputError for an experiment that is not ``type: interleaving``, an unknown or
    missing ranker, an empty ranking or an item listed twice."""
    block = experiment.interleaving
    if experiment.type != "interleaving" or block is None:
        raise InputError(
            f"experiment {experiment.key!r} is of type {experiment.type!r}, not 'interleaving'"
        )
    keys = experiment.variant_keys
    unknown = [k for k in rankings if k not in keys]
    if unknown:
        raise InputError(f"rankings: unknown ranker {unknown[0]!r}; the rankers are {list(keys)}")
    missing = [k for k in keys if k not in rankings]
    if missing:
        raise InputError(f"rankings: no ranking for ranker {missing[0]!r}; give both {list(keys)}")
    if not isinstance(query, str):
        raise InputError(f"query: text, got {type(query).__name__}")
    control = experiment.control_variant
    other = next(k for k in keys if k != control)
    ra, rb = _ranking(control, rankings[control]), _ranking(other, rankings[other])
    unit = str(unit_id)
    session = session_id if session_id is not None else session_of(experiment.key, unit, query)
    if not session or len(session) > MAX_ITEM_TEXT:
        raise InputError(f"session_id: 1 to {MAX_ITEM_TEXT} characters")
    length = min(block.length or MAX_ITEMS, len(set(ra) | set(rb)))
    assignment = (assigner or Assigner(experiment)).assign(unit, attributes)
    if assignment.variant is None or assignment.reason != Reason.ASSIGNED:
        alone = assignment.variant or control
        shown = (ra if alone == control else rb)[:length]
        return Interleaved(
            experiment.key,
            unit,
            session,
            tuple(shown),
            (alone,) * len(shown),
            interleaved=False,
            impression_event=block.impression_event,
        )
    salt = f"{experiment.hash_salt}:interleave"
    version = experiment.hash_version

    def coin(slot: int) -> bool:
        return hash_unit(version, salt, f"{unit}\x1f{query}\x1f{slot}") < 0.5

    items, teams = merge_team_draft(ra, rb, length, coin)
    return Interleaved(
        experiment.key,
        unit,
        session,
        tuple(items),
        tuple(control if t == 0 else other for t in teams),
        impression_event=block.impression_event,
    )
