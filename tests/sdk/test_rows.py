"""The client refuses, at ``track()``, every event the server would refuse, and leaves out
(and counts) exposures the server would refuse."""

from __future__ import annotations

import math
from typing import Any

import pytest

pytest.importorskip("httpx")

from shipit.errors import InputError
from shipit.sdk import InMemoryTransport, ShipitClient

SPEC = {
    "key": "checkout",
    "variants": [{"key": "control", "weight": 0.5}, {"key": "green", "weight": 0.5}],
}


def _client() -> tuple[ShipitClient, InMemoryTransport]:
    transport = InMemoryTransport({"experiments": [{"key": "checkout", "phase": 1, "spec": SPEC}]})
    client = ShipitClient("http://t", "k", transport=transport, start=False, retry_seconds=0)
    client.refresh()
    return client, transport


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"value": math.nan}, "value must be a finite number"),
        ({"value": -math.inf}, "value must be a finite number"),
        ({"value": "12"}, "value must be a number"),
        ({"unit_id": "u" * 257}, "unit_id has 257 characters"),
        ({"unit_id": ""}, "unit_id is empty"),
        ({"event_id": "e" * 300}, "event_id has 300 characters"),
        ({"properties": {"cart": {"items": 2}}}, "properties.cart must be text"),
        ({"properties": {"tags": ["a"]}}, "properties.tags must be text"),
        ({"properties": {"bad name": "x"}}, "not a valid name"),
        ({"properties": {"value": 1.0}}, "reserved column name"),
        ({"properties": {"score": math.inf}}, "properties.score must be a finite number"),
        ({"unit_id": "\ud800"}, "not valid Unicode"),
    ],
)
def test_track_refuses_what_the_server_would_refuse(kwargs: dict[str, Any], field: str) -> None:
    client, transport = _client()
    args: dict[str, Any] = {"unit_id": "u1", "value": 1.0, **kwargs}
    with pytest.raises(InputError, match=field):
        client.track("purchase", args.pop("unit_id"), **args)
    assert client.stats.pending == 0
    client.track("purchase", "u1", 2.0, properties={"country": "NA", "n": 3, "ok": True})
    assert client.flush()
    assert len(transport.events) == 1


def test_exposures_the_server_would_refuse_are_left_out_and_counted() -> None:
    client, transport = _client()
    assert client.assign("checkout", "u" * 300) is not None  # assigned, but not storable
    client.assign("checkout", "u2", {"variant": "green"})  # an attribute named like a column
    client.assign("checkout", "u3", {"country": "x" * 2000})
    client.assign("checkout", "u4", {"country": "fr"})
    assert client.flush()
    assert [r["unit_id"] for r in transport.exposures] == ["u4"]
    stats = client.stats
    assert stats.invalid == 3
    assert stats.lost == 3
