# ruff: noqa: UP031, RUF028  (a corpus of raw request texts, written as they are sent)
"""A hand-written corpus of hostile requests (the cases of the hardening issue and their
neighbours), each sent with every kind of key: no reply is a 5xx, no connection is dropped,
and the server still lists, serves features and the dashboard afterwards."""

from __future__ import annotations

import json
from typing import Any

import httpx

from server.fuzzstats import FUZZ, record
from server.live import SPEC_YAML, Live

V = [{"key": "control", "weight": 0.5}, {"key": "green", "weight": 0.5}]
VJ = json.dumps(V)
NOW = "2026-11-01T00:00:00Z"


def _deep(depth: int) -> dict[str, Any]:
    condition: dict[str, Any] = {"attribute": "a", "eq": 1}
    for _ in range(depth):
        condition = {"not": condition}
    return condition


def _spec(key: str, **extra: Any) -> dict[str, Any]:
    return {"spec": {"key": key, "variants": V, **extra}}


def _exposure(**extra: Any) -> dict[str, Any]:
    row = {"experiment": "running", "unit_id": "u", "variant": "green", "timestamp": NOW}
    return {"exposures": [{**row, **extra}]}


def _event(**extra: Any) -> dict[str, Any]:
    row = {"event_id": "e", "unit_id": "u", "event": "buy", "timestamp": NOW, "value": 1.0}
    return {"events": [{**row, **extra}]}


def _assign(**extra: Any) -> dict[str, Any]:
    return {"experiment": "running", "unit_id": "u", **extra}


# (method, path, JSON body or raw text)
CORPUS: list[tuple[str, str, Any]] = [
    ("POST", "/v1/experiments", _spec("deep127", targeting=_deep(127))),
    (
        "POST",
        "/v1/experiments",
        '{"spec": {"key": "deep", "variants": %s, "targeting": %s%s%s}}'
        % (VJ, '{"not": ' * 5000, '{"attribute": "a", "eq": 1}', "}" * 5000),
    ),  # fmt: skip
    ("POST", "/v1/experiments", '{"spec": {"key": "s1", "name": "\\ud800", "variants": %s}}' % VJ),
    ("POST", "/v1/experiments", '{"spec": {"key": "s2", "variants": %s, "salt": "\\udfff"}}' % VJ),
    ("POST", "/v1/experiments", '{"spec": {"key": "s3", "variants": %s, "x": "\\u0000"}}' % VJ),
    ("POST", "/v1/experiments", {"yaml": 'key: s4\nname: "\\ud800"\nvariants: ' + VJ}),
    ("POST", "/v1/experiments", {"yaml": "a: " + "[" * 50_000}),
    ("POST", "/v1/experiments", {"yaml": "- " * 20_000 + "x"}),
    ("POST", "/v1/experiments", {"yaml": "key: &a [*a]"}),
    ("POST", "/v1/experiments", '{"spec": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("POST", "/v1/experiments", _spec("r1", targeting={"attribute": "a", "regex": "^(a+)+$"})),
    ("POST", "/v1/experiments", _spec("r2", targeting={"attribute": "a", "regex": "(?=x)"})),
    ("POST", "/v1/experiments", _spec("r3", targeting={"attribute": "a", "regex": "(" * 5000})),
    ("POST", "/v1/experiments", _spec("f1", metrics_files=["/etc/passwd"])),
    ("POST", "/v1/experiments", _spec("f2", metrics_files=["../../../../dev/zero"])),
    (
        "POST",
        "/v1/experiments",
        {"yaml": SPEC_YAML.replace("checkout", "f3") + "metrics_files: [/dev/zero]\n"},
    ),  # fmt: skip
    ("POST", "/v1/experiments", _spec("f4", metrics_files="/etc/passwd")),
    ("POST", "/v1/experiments", _spec("k" * 300)),
    ("POST", "/v1/experiments", _spec("long-salt", salt="s" * 5000)),
    ("POST", "/v1/experiments", _spec("long-unit", unit="u" * 5000)),
    ("POST", "/v1/experiments", _spec("huge", exclude=[f"u{i}" for i in range(200_000)])),
    ("POST", "/v1/experiments", _spec("ns", namespace={"name": "n", "range": [0, "NaN"]})),
    (
        "POST",
        "/v1/experiments",
        '{"spec": {"key": "w1", "variants": %s, "metrics": [{"name": '
        '"m", "event": "e", "window": {"start_hours": NaN}}]}}' % VJ,
    ),  # fmt: skip
    (
        "POST",
        "/v1/experiments",
        '{"spec": {"key": "w2", "variants": %s, "metrics": [{"name": '
        '"m", "event": "e", "window": {"end_hours": -Infinity}}]}}' % VJ,
    ),  # fmt: skip
    (
        "POST",
        "/v1/experiments",
        '{"spec": {"key": "w3", "variants": [{"key": "a", "weight": '
        'NaN}, {"key": "b", "weight": Infinity}]}}',
    ),  # fmt: skip
    ("POST", "/v1/experiments", '{"spec": {"key": "t1", "variants": %s, "traffic": 1e999}}' % VJ),
    ("POST", "/v1/experiments", {"spec": {"key": "h", "variants": V, "hash_version": 2**70}}),
    ("POST", "/v1/experiments", {"spec": None, "yaml": None}),
    ("POST", "/v1/experiments", "not json at all"),
    ("POST", "/v1/experiments", '{"spec": {"key": "\\ud800", "variants": %s}}' % VJ),
    ("PUT", "/v1/experiments/running", _spec("running", targeting=_deep(300))),
    (
        "PUT",
        "/v1/experiments/running",
        '{"spec": {"key": "running", "owner": "\\ud800", "variants": %s}}' % VJ,
    ),  # fmt: skip
    ("POST", "/v1/assign", _assign(attributes={"variant": "x"}, log_exposures=True)),
    ("POST", "/v1/assign", _assign(attributes={"phase": "9"}, log_exposures=True)),
    ("POST", "/v1/assign", _assign(attributes={"a b; drop": "x"}, log_exposures=True)),
    ("POST", "/v1/assign", _assign(attributes={"a": "a" * 100_000})),
    ("POST", "/v1/assign", _assign(attributes={"a": "\ud800"}, log_exposures=True)),
    (
        "POST",
        "/v1/assign",
        {
            "experiment": "running",
            "units": [{"unit_id": "u", "attributes": {"timestamp": "x"}}],
            "log_exposures": True,
        },
    ),  # fmt: skip
    ("POST", "/v1/assign", _assign(unit_id="u" * 10_000)),
    ("POST", "/v1/assign", {"experiment": "\ud800", "unit_id": "u"}),
    ("POST", "/v1/exposures", _exposure(phase=2**70)),
    ("POST", "/v1/exposures", _exposure(phase=-(2**70))),
    ("POST", "/v1/exposures", _exposure(experiment="ghost")),
    ("POST", "/v1/exposures", _exposure(unit_id="\ud800")),
    ("POST", "/v1/exposures", _exposure(attributes={"variant": "x"})),
    ("POST", "/v1/exposures", _exposure(timestamp="99999-01-01T00:00:00Z")),
    ("POST", "/v1/events", _event(value="NaN")),
    (
        "POST",
        "/v1/events",
        '{"events": [{"event_id": "e", "unit_id": "u", "event": "b", '
        '"timestamp": "%s", "value": -Infinity}]}' % NOW,
    ),  # fmt: skip
    ("POST", "/v1/events", _event(unit_id="u" * 5000)),
    ("POST", "/v1/events", _event(properties={"nested": {"a": [1, 2]}})),
    ("POST", "/v1/events", _event(properties={"n": 1e308 * 10})),
    ("POST", "/v1/events", _event(properties={"x": "\ud800"})),
    ("POST", "/v1/events", _event(timestamp="0000-00-00")),
    ("POST", "/v1/experiments/running/analyses", None),
    ("POST", "/v1/experiments/%2e%2e/start", None),
    ("GET", "/v1/experiments/" + "k" * 5000, None),
    ("GET", "/v1/experiments?status=%ED%A0%80", None),
    ("GET", "/experiments/%ED%A0%80", None),
    ("GET", "/experiments/%00", None),
    ("GET", "/planner?baseline=nan&mde=inf&daily_units=1e400", None),
    ("GET", "/planner?variants=999999999999999999999", None),
    ("POST", "/login", "key=%ff%fe&next=//evil"),
    ("POST", "/login", "key=" + "a" * 100_000),
    ("GET", "/login?next=javascript:alert(1)", None),
]


def _send(c: httpx.Client, method: str, path: str, body: Any, key: str | None) -> int | None:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        if isinstance(body, str):
            kind = "application/x-www-form-urlencoded" if path == "/login" else "application/json"
            r = c.request(method, path, content=body.encode("utf-8", "surrogatepass"),
                          headers={**headers, "content-type": kind})  # fmt: skip
        elif body is None:
            r = c.request(method, path, headers=headers)
        else:
            text = json.dumps(body)  # lone surrogates travel as \\ud800 escapes
            r = c.request(method, path, content=text, headers={**headers,
                          "content-type": "application/json"})  # fmt: skip
    except httpx.TransportError:
        return None
    return r.status_code


def test_the_corpus_gives_no_5xx_and_no_crash(live_module: Live) -> None:
    with live_module.client(live_module.admin) as c:
        c.post("/v1/experiments", json={"yaml": SPEC_YAML.replace("key: checkout", "key: running")})
        c.post("/v1/experiments/running/start")
    bad: list[tuple[str, str, str, int | None]] = []
    keys = {"admin": live_module.admin, "sdk": live_module.sdk, "read": live_module.read,
            "none": None}  # fmt: skip
    with httpx.Client(base_url=live_module.url, timeout=30) as c:
        for method, path, body in CORPUS:
            for who, key in keys.items():
                status = _send(c, method, path, body, key)
                record("corpus", status)
                if status is None or status >= 500:
                    bad.append((method, path[:60], who, status))
    assert bad == [], bad
    assert FUZZ["corpus cases"] >= len(CORPUS) * len(keys)
    with live_module.client(live_module.admin) as c:
        assert c.get("/healthz").status_code == 200
        listed = c.get("/v1/experiments")
        assert listed.status_code == 200
        # No poison was stored: only the running experiment and the RE2-safe regex spec.
        assert [e["key"] for e in listed.json()] == ["r1", "running"]
        assert c.get("/v1/features").status_code == 200
        assert c.get("/").status_code == 200
