"""Specs that would poison the registry are refused with a 422 naming the field, and nothing
is stored: deep nesting, lone surrogates, non-finite numbers, over-long keys and salts,
catastrophic regexes, files outside the metrics directory (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.conftest import serve
from server.live import SPEC_YAML, Live

VARIANTS = [{"key": "control", "weight": 0.5}, {"key": "green", "weight": 0.5}]


def _spec(key: str = "poison", **extra: Any) -> dict[str, Any]:
    return {"key": key, "variants": VARIANTS, **extra}


def _nested(depth: int) -> dict[str, Any]:
    condition: dict[str, Any] = {"attribute": "country", "eq": "fr"}
    for _ in range(depth):
        condition = {"not": condition}
    return condition


def _raw(c: httpx.Client, text: str) -> httpx.Response:
    """POST a body as written (JSON escapes such as \\ud800 kept)."""
    return c.post("/v1/experiments", content=text, headers={"content-type": "application/json"})


def _still_healthy(live: Live, key: str) -> None:
    """Nothing was stored, and the listings every client uses still answer."""
    with live.client(live.admin) as c:
        assert c.get(f"/v1/experiments/{key}").status_code == 404
        assert c.get("/v1/experiments").status_code == 200
    with live.client(live.sdk) as c:
        assert c.get("/v1/features").status_code == 200
    with live.client(live.read) as c:
        assert c.get("/").status_code == 200


@pytest.mark.parametrize("depth", [40, 127, 400])
def test_deeply_nested_targeting_is_refused_and_not_stored(live_db: Live, depth: int) -> None:
    with live_db.client(live_db.admin) as c:
        r = c.post("/v1/experiments", json={"spec": _spec(targeting=_nested(depth))})
        assert r.status_code == 422, r.text
        assert "targeting" in r.json()["detail"]
    _still_healthy(live_db, "poison")


@pytest.mark.parametrize(
    "body",
    [
        '{"spec": {"key": "poison", "name": "\\ud800", "variants": %s}}',
        '{"spec": {"key": "poison", "owner": "a\\udfffb", "variants": %s}}',
        '{"spec": {"key": "poison", "variants": %s, "exclude": ["ok", "\\ud83d"]}}',
        '{"spec": {"key": "poison", "variants": %s, "targeting": '
        '{"attribute": "\\ud800", "eq": "x"}}}',
    ],
    ids=["name", "owner", "exclude", "attribute"],
)
def test_text_that_is_not_valid_unicode_is_refused(live_db: Live, body: str) -> None:
    with live_db.client(live_db.admin) as c:
        r = _raw(c, body % json.dumps(VARIANTS))
    assert r.status_code == 422, r.text
    _still_healthy(live_db, "poison")


def test_a_nul_character_is_text_like_any_other(live_db: Live) -> None:
    body = (
        '{"spec": {"key": "nul", "hypothesis": "a\\u0000b", "variants": %s, "forced": '
        '{"qa\\u0000": "green"}}}'
    )
    with live_db.client(live_db.admin) as c:
        r = _raw(c, body % json.dumps(VARIANTS))
        assert r.status_code == 201, r.text
        assert c.get("/v1/experiments/nul").json()["spec"]["forced"] == {"qa\x00": "green"}
        assert c.post("/v1/experiments/nul/start").status_code == 200
    with live_db.client(live_db.sdk) as c:
        assert c.get("/v1/features").status_code == 200


def test_a_lone_surrogate_in_yaml_is_refused(live_db: Live) -> None:
    yaml = SPEC_YAML.replace("key: checkout", "key: poison").replace(
        "name: Green checkout button", 'name: "bad \\ud800 name"'
    )
    with live_db.client(live_db.admin) as c:
        r = c.post("/v1/experiments", json={"yaml": yaml})
    assert r.status_code == 422, r.text
    _still_healthy(live_db, "poison")


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (_spec("k" * 201), "key"),
        (_spec(salt="s" * 401), "salt"),
        (_spec(unit="u" * 201), "unit"),
        (_spec(namespace={"name": "n", "salt": "s" * 401}), "namespace.salt"),
    ],
    ids=["key", "salt", "unit", "namespace-salt"],
)
def test_over_long_keys_and_salts_are_refused_at_create(
    live_db: Live, spec: dict[str, Any], field: str
) -> None:
    with live_db.client(live_db.admin) as c:
        r = c.post("/v1/experiments", json={"spec": spec})
        assert r.status_code == 422, r.text
        assert field in r.json()["detail"]
        assert c.get("/v1/experiments").json() == []


def test_the_longest_key_and_salt_allowed_are_stored_and_start(live_db: Live) -> None:
    spec = _spec("k" * 200, salt="s" * 400, unit="u" * 200)
    with live_db.client(live_db.admin) as c:
        assert c.post("/v1/experiments", json={"spec": spec}).status_code == 201
        r = c.post(f"/v1/experiments/{'k' * 200}/start")
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "window",
    [
        '{"start_hours": NaN}',
        '{"start_hours": 0, "end_hours": -Infinity}',
        '{"start_hours": -Infinity}',
        '{"end_hours": Infinity}',
    ],
)
def test_non_finite_metric_windows_are_refused_at_create(live_db: Live, window: str) -> None:
    metric = '{"name": "m", "event": "purchase", "window": ' + window + "}"
    body = '{"spec": {"key": "poison", "variants": ' + json.dumps(VARIANTS)
    with live_db.client(live_db.admin) as c:
        r = _raw(c, body + ', "metrics": [' + metric + "]}}")
    assert r.status_code == 422, r.text
    assert "window" in r.json()["detail"] or "finite" in r.json()["detail"]
    _still_healthy(live_db, "poison")


@pytest.mark.parametrize("value", [".nan", "-.inf", ".inf"])
def test_non_finite_numbers_in_yaml_are_refused(live: Live, value: str) -> None:
    yaml = SPEC_YAML.replace("key: checkout", "key: poison").replace(
        "{name: converted, event: purchase, aggregation: any}",
        f"{{name: converted, event: purchase, aggregation: any, window: {{end_hours: {value}}}}}",
    )
    with live.client(live.admin) as c:
        assert c.post("/v1/experiments", json={"yaml": yaml}).status_code == 422
    _still_healthy(live, "poison")


def test_yaml_nested_50k_deep_is_a_422(live: Live) -> None:
    with live.client(live.admin) as c:
        for text in ("a: " + "[" * 50_000, "- " * 50_000 + "x", "{a: " * 50_000):
            r = c.post("/v1/experiments", json={"yaml": text})
            assert r.status_code == 422, r.text[:300]


def test_yaml_aliases_cannot_multiply_a_spec(live: Live) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    yaml = SPEC_YAML.replace("key: checkout", "key: poison") + "\n".join(lines) + "\n"
    with live.client(live.admin) as c:
        start = time.monotonic()
        r = c.post("/v1/experiments", json={"yaml": yaml})
    assert r.status_code == 422, r.text[:300]
    assert time.monotonic() - start < 10


def test_the_same_key_created_concurrently_gives_one_201_and_409s(live_db: Live) -> None:
    def create(i: int) -> int:
        with live_db.client(live_db.admin) as c:
            return c.post("/v1/experiments", json={"spec": _spec("race", name=str(i))}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(create, range(40)))
    assert codes.count(201) == 1, codes
    assert set(codes) == {201, 409}, codes


# -- regex targeting --------------------------------------------------------------------------


def test_a_catastrophic_regex_matches_in_linear_time(live: Live) -> None:
    spec = _spec("regex", targeting={"attribute": "name", "regex": "^(a+)+$"})
    with live.client(live.admin) as c:
        assert c.post("/v1/experiments", json={"spec": spec}).status_code == 201
        assert c.post("/v1/experiments/regex/start").status_code == 200
    units = [{"unit_id": f"u{i}", "attributes": {"name": "a" * 1000 + "b"}} for i in range(200)]
    units.append({"unit_id": "match", "attributes": {"name": "a" * 27}})
    with live.client(live.sdk) as c:
        start = time.process_time()  # CPU time of client and server threads: load-independent
        r = c.post("/v1/assign", json={"experiment": "regex", "units": units})
        single = c.post(
            "/v1/assign",
            json={"experiment": "regex", "unit_id": "x", "attributes": {"name": "a" * 27 + "!"}},
        )
        elapsed = time.process_time() - start
    assert r.status_code == 200, r.text
    reasons = [a["reason"] for a in r.json()["assignments"]]
    assert reasons[:-1] == ["not_targeted"] * 200
    assert reasons[-1] != "not_targeted"
    assert single.json()["assignments"][0]["reason"] == "not_targeted"
    assert elapsed < 2.0  # Python's re takes seconds for one 27-character attribute


def test_attributes_are_bounded_in_length(live: Live) -> None:
    with live.client(live.admin) as c:
        assert c.post("/v1/experiments", json={"yaml": SPEC_YAML}).status_code == 201
        c.post("/v1/experiments/checkout/start")
    body = {"experiment": "checkout", "unit_id": "u", "attributes": {"name": "a" * 1025}}
    with live.client(live.sdk) as c:
        r = c.post("/v1/assign", json=body)
    assert r.status_code == 422
    assert "attributes.name" in r.json()["detail"]


@pytest.mark.parametrize("pattern", ["(?=a)b", "(a)\\1", "(?<!x)y", "a" * 1001, "(unclosed"])
def test_patterns_without_a_linear_time_match_are_refused(live: Live, pattern: str) -> None:
    spec = _spec("regex", targeting={"attribute": "name", "regex": pattern})
    with live.client(live.admin) as c:
        r = c.post("/v1/experiments", json={"spec": spec})
    assert r.status_code == 422, r.text
    assert "regex" in r.json()["detail"]


# -- metrics files ----------------------------------------------------------------------------

METRICS = "metrics:\n  - {name: shared_revenue, event: purchase, aggregation: sum}\n"


def _with_files(key: str, *files: str) -> str:
    return SPEC_YAML.replace("key: checkout", f"key: {key}") + f"metrics_files: {list(files)}\n"


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../../../../etc/passwd", "/dev/zero", "metrics.yaml"]
)
def test_api_specs_cannot_name_metrics_files_without_a_metrics_dir(live: Live, name: str) -> None:
    with live.client(live.admin) as c:
        r = c.post("/v1/experiments", json={"yaml": _with_files("files", name)})
        assert r.status_code == 422, r.text
        assert "metrics_files" in r.json()["detail"]
        r = c.post("/v1/experiments", json={"spec": _spec("files", metrics_files=[name])})
        assert r.status_code == 422, r.text
        assert "root:" not in r.text
    _still_healthy(live, "files")


@pytest.fixture
def live_metrics(tmp_path: Path) -> Iterator[Live]:
    """A server with a metrics directory holding ``metrics.yaml`` (and a link out of it)."""
    directory = tmp_path / "metrics"
    (directory / "team").mkdir(parents=True)
    (directory / "team" / "metrics.yaml").write_text(METRICS)
    (tmp_path / "secret.yaml").write_text(METRICS.replace("shared_revenue", "leaked_metric"))
    (directory / "escape.yaml").symlink_to(tmp_path / "secret.yaml")
    (directory / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "server").mkdir()
    yield from serve(tmp_path / "server", metrics_dir=directory)


def test_metrics_files_load_from_the_metrics_dir_only(live_metrics: Live) -> None:
    with live_metrics.client(live_metrics.admin) as c:
        r = c.post("/v1/experiments", json={"yaml": _with_files("yaml", "team/metrics.yaml")})
        assert r.status_code == 201, r.text
        assert r.json()["spec"]["shared_metrics"][0]["name"] == "shared_revenue"
        spec = _spec("json", metrics_files=["team/metrics.yaml"])
        r = c.post("/v1/experiments", json={"spec": spec})
        assert r.status_code == 201, r.text
        assert r.json()["spec"]["shared_metrics"][0]["name"] == "shared_revenue"
        for name in ("../secret.yaml", "escape.yaml", "zero.yaml", "/etc/passwd", "nope.yaml"):
            for body in (
                {"yaml": _with_files("bad", name)},
                {"spec": _spec("bad", metrics_files=[name])},
            ):
                r = c.post("/v1/experiments", json=body)
                assert r.status_code == 422, (name, r.text)
                assert "leaked_metric" not in r.text
        assert c.get("/v1/experiments/bad").status_code == 404
