"""ShipitClient.shadow on the shipped InMemoryTransport: production's output is returned,
both outputs are sent to ``POST /v1/shadow``, and rows the server would refuse are named."""

from __future__ import annotations

from typing import Any

import pytest

from shipit.errors import InputError
from shipit.sdk import InMemoryTransport, ShipitClient

SPEC: dict[str, Any] = {
    "key": "ranker",
    "type": "shadow",
    "variants": [{"key": "prod", "weight": 0.5}, {"key": "cand", "weight": 0.5}],
    "shadow": {"output": "score", "tolerance": 0.1},
}


def _client(spec: dict[str, Any] = SPEC) -> tuple[ShipitClient, InMemoryTransport]:
    payload = {"experiments": [{"key": spec["key"], "phase": 2, "spec": spec}]}
    transport = InMemoryTransport(payload)
    client = ShipitClient("http://test", "k", transport=transport, start=False, retry_seconds=0)
    client.refresh()
    return client, transport


def test_returns_production_and_logs_both_outputs_and_the_exposure() -> None:
    client, transport = _client()
    served = [
        client.shadow(
            "ranker",
            f"u{i}",
            f"r{i}",
            production=0.2,
            candidate=0.9,
            production_ms=3,
            candidate_ms=5,
        )
        for i in range(50)
    ]
    assert served == [0.2] * 50
    assert client.flush()
    assert len(transport.shadow) == 50
    row = transport.shadow[0]
    assert (row["experiment"], row["phase"], row["request_id"], row["unit_id"]) == (
        "ranker", 2, "r0", "u0"
    )  # fmt: skip
    assert (row["production"], row["candidate"], row["candidate_ms"]) == (0.2, 0.9, 5.0)
    # Every unit is exposed to production, never to the candidate (weights notwithstanding).
    assert {x["variant"] for x in transport.exposures} == {"prod"}
    assert len(transport.exposures) == 50
    assert client.stats.shadow_sent == 50
    # A request logged again is stored once by the server (and the fake).
    client.shadow("ranker", "u0", "r0", production=0.2, candidate=0.9)
    assert client.flush()
    assert len(transport.shadow) == 50


def test_an_unknown_experiment_still_serves_production() -> None:
    client, transport = _client()
    assert client.shadow("nope", "u1", "r1", production="A", candidate="B") == "A"
    assert client.flush()
    assert transport.shadow == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"candidate": "high"}, "candidate: scores are numbers"),
        ({"candidate": float("nan")}, "candidate: a score must be a finite number"),
        ({"production_ms": -1.0}, "production_ms: a latency cannot be negative"),
        ({"candidate_ms": float("inf")}, "candidate_ms: a latency is a finite number"),
        ({"production": None, "candidate": None}, "both missing"),
    ],
)
def test_rows_the_server_would_refuse_are_named(kwargs: dict[str, Any], field: str) -> None:
    client, _ = _client()
    args: dict[str, Any] = {"production": 0.1, "candidate": 0.2, **kwargs}
    with pytest.raises(InputError, match=field):
        client.shadow("ranker", "u1", "r1", **args)
    with pytest.raises(InputError, match="request_id: 1 to 256"):
        client.shadow("ranker", "u1", "", production=0.1, candidate=0.2)


def test_labels_and_rankings_are_checked_by_kind() -> None:
    label = {**SPEC, "shadow": {"output": "label"}}
    client, transport = _client(label)
    assert client.shadow("ranker", "u1", "r1", production="cat", candidate="dog") == "cat"
    with pytest.raises(InputError, match="candidate: labels are text"):
        client.shadow("ranker", "u1", "r2", production="cat", candidate=3)
    ranking = {**SPEC, "shadow": {"output": "ranking", "top_k": 2}}
    client, transport = _client(ranking)
    served = client.shadow("ranker", "u1", "r1", production=["a", "b"], candidate=("b", "c"))
    assert served == ["a", "b"]
    assert client.flush()
    assert transport.shadow[0]["candidate"] == ["b", "c"]
    with pytest.raises(InputError, match="production: rankings are lists"):
        client.shadow("ranker", "u1", "r2", production="a,b", candidate=["a"])
