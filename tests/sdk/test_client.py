"""ShipitClient on the shipped InMemoryTransport: local assignment, outages, retries, drops."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("httpx")
pytest.importorskip("shipit.assign")

from shipit.assign import Assigner
from shipit.sdk import InMemoryTransport, ShipitClient, TransportError
from shipit.sdk.transport import TransportResponse
from shipit.spec import Experiment

SPEC = {
    "key": "checkout",
    "variants": [{"key": "control", "weight": 0.5}, {"key": "green", "weight": 0.5}],
    "traffic": 0.8,
    "targeting": {"attribute": "country", "in": ["fr", "de"]},
}


def _payload(spec: dict[str, Any] = SPEC, phase: int = 1) -> dict[str, Any]:
    return {
        "refresh_seconds": 30,
        "experiments": [{"key": spec["key"], "phase": phase, "spec": spec}],
    }


def _client(transport: InMemoryTransport, **kw: Any) -> ShipitClient:
    client = ShipitClient(
        "http://test", "k", transport=transport, start=False, retry_seconds=0, **kw
    )
    client.refresh()
    return client


def test_assigns_like_the_library_single_and_batch() -> None:
    try:
        exp = Experiment.model_validate(SPEC)
    except Exception as exc:  # the targeting syntax belongs to shipit.spec
        pytest.skip(f"spec syntax differs: {exc}")
    assigner = Assigner(exp)
    client = _client(InMemoryTransport(_payload()))
    units = [f"u{i}" for i in range(2000)]
    country = ["fr", "us", "de", None] * 500
    single = [
        client.assign("checkout", u, {"country": c}) for u, c in zip(units, country, strict=True)
    ]
    assert [a.variant if a else None for a in single] == [
        assigner.assign(u, {"country": c}).variant for u, c in zip(units, country, strict=True)
    ]
    batch = client.assign_batch("checkout", np.array(units, dtype=object), {"country": country})
    assert batch is not None
    assert batch.variant_array().tolist() == [a.variant if a else None for a in single]


def test_unknown_experiment_gives_none_and_default() -> None:
    client = _client(InMemoryTransport(_payload()))
    assert client.assign("nope", "u1") is None
    assert client.variant("nope", "u1", default="off") == "off"


def test_keeps_the_last_payload_when_the_server_is_down() -> None:
    transport = InMemoryTransport(_payload())
    client = _client(transport)
    before = client.variant("checkout", "u1", {"country": "fr"})
    transport.down = True
    assert client.refresh() is False
    assert client.variant("checkout", "u1", {"country": "fr"}) == before
    assert client.stats.refresh_failures == 1


def test_exposures_are_logged_once_per_unit_and_sent_in_batches() -> None:
    transport = InMemoryTransport(_payload())
    client = _client(transport, batch_size=100)
    for _ in range(3):
        for i in range(250):
            client.assign("checkout", f"u{i}", {"country": "fr"})
    assert client.flush()
    enrolled = {r["unit_id"] for r in transport.exposures}
    assert len(transport.exposures) == len(enrolled) > 100
    posts = [p for m, p in transport.requests if m == "POST"]
    assert len(posts) == -(-len(enrolled) // 100)
    assert client.stats.exposures_sent == len(enrolled)


def test_failed_sends_are_retried_later_and_nothing_is_lost() -> None:
    transport = InMemoryTransport(_payload())
    client = _client(transport, max_retries=1)
    ids = [client.track("purchase", f"u{i}", 1.0) for i in range(30)]
    transport.down = True
    assert client.flush() is False
    assert client.stats.pending == 30
    transport.down = False
    assert client.flush() is True
    assert sorted(r["event_id"] for r in transport.events) == sorted(ids)
    assert client.stats.dropped == 0


def test_a_full_buffer_drops_and_counts() -> None:
    transport = InMemoryTransport(_payload())
    client = _client(transport, max_buffer=10)
    for i in range(25):
        client.track("purchase", f"u{i}")
    assert client.stats.dropped == 15
    assert client.flush()
    assert len(transport.events) == 10


def test_refused_batches_are_counted_not_retried_forever() -> None:
    class Refusing(InMemoryTransport):
        def request(self, method: str, path: str, **kw: Any) -> TransportResponse:
            if method == "POST":
                return TransportResponse(422, {}, {"detail": "bad"})
            return super().request(method, path, **kw)

    client = _client(Refusing(_payload()))
    client.track("purchase", "u1")
    assert client.flush()
    assert client.stats.rejected == 1


def test_background_thread_flushes_and_close_sends_the_rest() -> None:
    transport = InMemoryTransport(_payload())
    with ShipitClient("http://t", "k", transport=transport, flush_seconds=0.01) as client:
        client.track("purchase", "u1")
    assert len(transport.events) == 1
    assert client.stats.refreshes >= 1


def test_transport_error_is_a_shipit_error() -> None:
    from shipit.errors import ShipitError

    assert issubclass(TransportError, ShipitError)
