"""Client library: local assignment with the server's specs, exposure and event logging.

The OpenFeature provider lives in ``shipit.sdk.openfeature`` (needs ``openfeature-sdk``).
"""

from __future__ import annotations

from shipit.sdk.client import ClientStats, ShipitClient
from shipit.sdk.interleave import Interleaved
from shipit.sdk.transport import (
    HttpTransport,
    InMemoryTransport,
    Transport,
    TransportError,
    TransportResponse,
)

__all__ = [
    "ClientStats",
    "HttpTransport",
    "InMemoryTransport",
    "Interleaved",
    "ShipitClient",
    "Transport",
    "TransportError",
    "TransportResponse",
]
