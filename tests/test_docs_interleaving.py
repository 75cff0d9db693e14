"""docs/interleaving.md: its Python SDK example runs as written, its spec block is valid and
names every field of the block, and its JSON key list is the result's fields."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from shipit.result.interleaving import InterleavingResult
from shipit.spec.interleaving import CreditRules, InterleavingSpec
from shipit.spec.io import loads_experiments

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "interleaving.md").read_text(encoding="utf-8")


def test_the_sdk_example_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [block] = re.findall(r"^```python\n(.*?)^```", DOC, flags=re.M | re.S)
    monkeypatch.chdir(ROOT)
    namespace: dict[str, Any] = {}
    exec(compile(block, "docs/interleaving.md", "exec"), namespace)
    shown = namespace["shown"]
    events = namespace["transport"].events
    impressions = [e for e in events if e["event"] == "interleaving_impression"]
    assert [e["properties"]["item_id"] for e in impressions] == list(shown.items)
    [click] = [e for e in events if e["event"] == "search_click"]
    assert click["properties"] == {"session_id": shown.session_id, "item_id": "d5"}
    assert len(capsys.readouterr().out.splitlines()) == 6


def test_the_spec_block_is_valid_and_names_every_field() -> None:
    [block] = re.findall(r"^```yaml\n(.*?)^```", DOC, flags=re.M | re.S)
    [spec] = loads_experiments(block, "docs/interleaving.md")
    assert spec.interleaving is not None
    assert spec.interleaving.click_window_minutes == 30
    for field in (*InterleavingSpec.model_fields, *CreditRules.model_fields):
        assert re.search(rf"^\s+{field}:", block, flags=re.M), field


def test_the_json_keys_are_the_result_fields() -> None:
    keys = re.search(
        r"has an `interleaving` object \(absent for other types\): (.*?)\. The", DOC, flags=re.S
    )
    assert keys is not None
    listed = set(re.findall(r"`([a-z_]+)`", keys.group(1)))
    assert listed == set(InterleavingResult.model_fields)
