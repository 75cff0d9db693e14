"""ClientStats: the SDK client's counters, every row it could not store among them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ClientStats"]


@dataclass(frozen=True)
class ClientStats:
    """What the client did: rows sent, dropped (outbox full), rejected by the server, and
    ``invalid``: exposures left out because the server would refuse them."""

    exposures_sent: int
    events_sent: int
    dropped: int
    rejected: int
    pending: int
    refreshes: int
    refresh_failures: int
    invalid: int = 0
    shadow_sent: int = 0  # shadow predictions (production and candidate of a request)

    @property
    def lost(self) -> int:
        """Rows that will never be stored: dropped, rejected or invalid."""
        return self.dropped + self.rejected + self.invalid
