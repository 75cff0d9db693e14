"""Every state-changing endpoint (found in the OpenAPI document, so none is missed) refuses
a missing, malformed, unknown, revoked or under-scoped key, and changes nothing."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from server.live import SPEC_YAML, Live

WRITE = {"post", "put", "patch", "delete"}
# Endpoints an SDK key may call; every other write needs an admin key.
SDK_WRITES = {
    "/v1/assign",
    "/v1/events",
    "/v1/exposures",
    "/v1/ingest/flush",
    "/v1/interleave",
    "/v1/shadow",
}


def _writes(live: Live) -> list[tuple[str, str]]:
    doc = httpx.get(f"{live.url}/openapi.json").json()
    found = [
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        for method in ops
        if method in WRITE
    ]
    return sorted(found)


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "checkout", path)


def _state(live: Live) -> Any:
    with live.client(live.admin) as c:
        exps = c.get("/v1/experiments").json()
        hist = c.get("/v1/experiments/checkout/history").json()
    return exps, len(hist)


def test_the_openapi_document_lists_every_write(live: Live) -> None:
    writes = _writes(live)
    assert ("POST", "/v1/experiments") in writes
    assert ("POST", "/v1/events") in writes
    assert len(writes) >= 9


def test_writes_refuse_bad_keys_and_change_nothing(live: Live) -> None:
    from shipit.registry.keys import KeyRepository

    keys = KeyRepository.from_url(live.database_url)
    revoked_admin = keys.create("gone", "admin")
    keys.revoke(revoked_admin.key.prefix)
    with live.client(live.admin) as c:
        assert c.post("/v1/experiments", json={"yaml": SPEC_YAML}).status_code == 201
    before = _state(live)
    cases = {
        "missing": (None, 401),
        "malformed": ("not-a-key", 401),
        "unknown": ("shipit_deadbeef0000_" + "x" * 32, 401),
        "wrong secret": (live.admin[:-4] + "AAAA", 401),
        "revoked": (revoked_admin.token, 401),
    }
    body = {"yaml": SPEC_YAML}
    for method, path in _writes(live):
        for name, (token, expected) in cases.items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            r = httpx.request(method, live.url + _url(path), json=body, headers=headers)
            assert r.status_code == expected, (method, path, name, r.status_code, r.text)
        if path not in SDK_WRITES:
            r = httpx.request(
                method,
                live.url + _url(path),
                json=body,
                headers={"Authorization": f"Bearer {live.sdk}"},
            )
            assert r.status_code == 403, (method, path, "sdk scope", r.text)
    assert _state(live) == before


def test_x_api_key_header_works_too(live: Live) -> None:
    r = httpx.get(f"{live.url}/v1/experiments", headers={"X-API-Key": live.admin})
    assert r.status_code == 200


@pytest.mark.parametrize("path", ["/v1/experiments", "/v1/features"])
def test_reads_need_a_key(live: Live, path: str) -> None:
    assert httpx.get(live.url + path).status_code == 401


def test_keys_are_stored_hashed(live: Live) -> None:
    import sqlite3

    db = live.database_url.removeprefix("sqlite:///")
    con = sqlite3.connect(db)
    rows = con.execute("SELECT prefix, salt, digest FROM api_keys").fetchall()
    con.close()
    secret = live.admin.split("_", 2)[2]
    assert rows
    assert all(secret not in "".join(r) for r in rows)
    assert len({r[1] for r in rows}) == len(rows)  # one salt per key


def test_a_revoked_key_stops_working_within_cache_seconds(live: Live) -> None:
    import time

    from shipit.registry.keys import KeyRepository

    keys = KeyRepository.from_url(live.database_url)
    new = keys.create("short-lived", "admin")
    headers = {"Authorization": f"Bearer {new.token}"}
    assert httpx.get(f"{live.url}/v1/experiments", headers=headers).status_code == 200
    keys.revoke(new.key.prefix)
    time.sleep(live.app.state.services.settings.cache_seconds + 0.1)
    r = httpx.post(f"{live.url}/v1/experiments", json={"yaml": SPEC_YAML}, headers=headers)
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]
