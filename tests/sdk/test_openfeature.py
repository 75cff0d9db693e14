"""The OpenFeature provider: experiments as flags, variants as values."""

from __future__ import annotations

import pytest

pytest.importorskip("openfeature")
pytest.importorskip("shipit.assign")

from openfeature import api
from openfeature.evaluation_context import EvaluationContext

from shipit.sdk import InMemoryTransport, ShipitClient
from shipit.sdk.openfeature import ShipitProvider

SPEC = {
    "key": "checkout",
    "variants": [{"key": "control", "weight": 0.5}, {"key": "green", "weight": 0.5}],
}
SIZES = {
    "key": "sizes",
    "variants": [{"key": "10", "weight": 0.5}, {"key": "20", "weight": 0.5}],
}


@pytest.fixture
def client() -> ShipitClient:
    payload = {"experiments": [{"key": s["key"], "phase": 1, "spec": s} for s in (SPEC, SIZES)]}
    c = ShipitClient("http://t", "k", transport=InMemoryTransport(payload), start=False)
    c.refresh()
    return c


def test_flag_values_are_the_variants(client: ShipitClient) -> None:
    api.set_provider(ShipitProvider(client))
    of = api.get_client()
    for i in range(200):
        ctx = EvaluationContext(targeting_key=f"u{i}")
        variant = client.variant("checkout", f"u{i}")
        assert of.get_string_value("checkout", "off", ctx) == variant
        assert of.get_boolean_value("checkout", False, ctx) == (variant == "green")
        assert of.get_integer_value("sizes", 0, ctx) == int(client.variant("sizes", f"u{i}") or 0)
        assert of.get_object_value("checkout", {}, ctx) == {
            "experiment": "checkout",
            "variant": variant,
        }


def test_errors_give_the_default(client: ShipitClient) -> None:
    provider = ShipitProvider(client)
    missing = provider.resolve_string_details("nope", "off", EvaluationContext(targeting_key="u"))
    assert missing.value == "off"
    assert missing.error_code == "FLAG_NOT_FOUND"
    no_key = provider.resolve_string_details("checkout", "off", EvaluationContext())
    assert no_key.value == "off"
    assert no_key.error_code == "TARGETING_KEY_MISSING"
    mismatch = provider.resolve_integer_details("checkout", 7, EvaluationContext(targeting_key="u"))
    assert mismatch.value == 7
    assert mismatch.error_code == "TYPE_MISMATCH"
    assert provider.get_metadata().name == "shipit"
