"""Fuzz every operation of the OpenAPI document (schemathesis, bounded): no 5xx with an admin
key, and no write succeeds without a key."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402

from server.fuzzstats import record  # noqa: E402
from server.live import SPEC_YAML, Live  # noqa: E402

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
HAS_ANALYSIS = importlib.util.find_spec("shipit.analysis") is not None


@pytest.fixture(scope="module")
def api_schema(live_module: Live) -> Any:
    import httpx

    with live_module.client(live_module.admin) as c:
        c.post("/v1/experiments", json={"yaml": SPEC_YAML})
        c.post("/v1/experiments", json={"yaml": SPEC_YAML.replace("key: checkout", "key: running")})
        c.post("/v1/experiments/running/start")
    assert httpx.get(f"{live_module.url}/healthz").status_code == 200
    loaded = schemathesis.openapi.from_url(f"{live_module.url}/openapi.json")
    # Bounded: generated cases only (the coverage phase alone sends thousands of requests);
    # the hand-written corpus (test_fuzz_corpus.py) covers the boundary cases.
    loaded.config.phases.coverage.enabled = False
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_fuzz(case: Any, live_module: Live) -> None:
    try:
        admin = case.call(headers={"Authorization": f"Bearer {live_module.admin}"}, timeout=30)
    except Exception:
        record("schemathesis", None)
        raise
    if admin.status_code == 501 and not HAS_ANALYSIS:
        return  # the analysis pipeline is not in this build: a declared 501, not a crash
    record("schemathesis", admin.status_code)
    assert admin.status_code < 500, (case.method, case.path, admin.status_code, admin.text[:500])
    for token in (live_module.sdk, None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            other = case.call(headers=headers, timeout=30)
        except Exception:
            record("schemathesis", None)
            raise
        record("schemathesis", other.status_code)
        assert other.status_code < 500, (case.method, case.path, other.text[:500])
    anonymous = other
    if case.method.upper() in WRITES:
        # Refused: 401 for a well-formed request; a malformed body may be refused first (4xx).
        assert 400 <= anonymous.status_code < 500, (case.method, case.path, anonymous.status_code)
