"""The analysis JSON round-trips exactly and matches the committed, documented schema."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipit.errors import DataError
from shipit.result.model import Analysis, Estimate
from shipit.result.schema import from_json, json_schema, published_schema, to_json


def test_round_trip(analysis: Analysis) -> None:
    text = to_json(analysis)
    back = from_json(text)
    assert back == analysis
    assert to_json(back) == text
    data = json.loads(text)
    assert data["schema_version"] == "1"
    assert data["verdict"]["decision"] == analysis.verdict.decision
    assert data["effects"][0]["raw"]["rel_ci_low"] == pytest.approx(0.134 - 1.96 * 0.012)


def test_committed_schema_matches_the_models() -> None:
    assert published_schema() == json.loads(json.dumps(json_schema(), sort_keys=True)), (
        "the analysis models changed: if intended, call "
        "`shipit.result.schema.write_schema()` and "
        "bump SCHEMA_VERSION when a field was removed or changed meaning"
    )


def test_schema_validates_the_output(analysis: Analysis) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads(to_json(analysis)), published_schema())


@given(st.floats(allow_nan=True, allow_infinity=True))
@settings(max_examples=100, deadline=None)
def test_non_finite_numbers_become_null(x: float) -> None:
    e = Estimate(rel_effect=x)
    back = Estimate.model_validate_json(e.model_dump_json())
    if math.isfinite(x):
        assert back.rel_effect == x
    else:
        assert back.rel_effect is None


def test_bad_json_is_a_clear_error(analysis: Analysis) -> None:
    with pytest.raises(DataError, match="not valid JSON"):
        from_json("{")
    data = json.loads(to_json(analysis))
    data["verdict"]["decision"] = "maybe"
    with pytest.raises(DataError, match=r"verdict\.decision"):
        from_json(json.dumps(data))
    data["schema_version"] = "99"
    with pytest.raises(DataError, match="schema_version"):
        from_json(json.dumps(data))
