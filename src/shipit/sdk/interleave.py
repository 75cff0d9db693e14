"""``ShipitClient.interleave``: the team-draft list of one unit and query, its impressions
queued as events (one per shown item, naming the ranker that supplied it).

Clicks are ordinary events: ``client.track(click_event, unit, properties=
shown.click_properties(item))`` ties a click to its session and item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from shipit.assign import Assigner
from shipit.assign.interleave import Interleaved, Item, interleave
from shipit.sdk.buffer import Outbox
from shipit.sdk.rows import check_event

__all__ = ["InterleaveServing", "Interleaved", "interleave_and_queue"]


class _Compiled(Protocol):
    @property
    def assigner(self) -> Assigner: ...


def interleave_and_queue(
    compiled: _Compiled | None,
    events: Outbox,
    unit_id: str | int,
    query: str,
    rankings: Mapping[str, Sequence[Item]],
    *,
    attributes: Mapping[str, Any] | None = None,
    session_id: str | None = None,
) -> Interleaved | None:
    """Interleave for a compiled experiment (None when it is not running) and queue the
    impressions; bad input (unknown ranker, empty or repeated items) raises InputError."""
    if compiled is None:
        return None
    assigner = compiled.assigner
    shown = interleave(
        assigner.experiment,
        unit_id,
        query,
        rankings,
        attributes=attributes,
        session_id=session_id,
        assigner=assigner,
    )
    rows = shown.impressions()
    for row in rows:
        check_event(row)
    events.put(rows)
    return shown


class InterleaveServing:
    """``ShipitClient.interleave``: a team-draft list served locally, its impressions queued."""

    _experiments: dict[str, Any]
    _events: Outbox

    def interleave(
        self,
        experiment: str,
        unit_id: str | int,
        query: str,
        rankings: Mapping[str, Sequence[str | int]],
        *,
        attributes: Mapping[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Interleaved | None:
        """The team-draft list of an interleaving experiment for a unit and query (the same
        on every call), its impressions queued; None when the experiment is not running."""
        return interleave_and_queue(
            self._experiments.get(experiment),
            self._events,
            unit_id,
            query,
            rankings,
            attributes=attributes,
            session_id=session_id,
        )
