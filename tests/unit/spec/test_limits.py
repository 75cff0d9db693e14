"""Spec limits checked before anything is stored: depth, text, numbers, sizes, the JSON
round trip, RE2 regexes, and metrics files confined to a directory."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest

from shipit.errors import NotFoundError, SpecError
from shipit.spec import Experiment, Rule, loads_experiments
from shipit.spec.io import load_confined_metrics
from shipit.spec.limits import MAX_DEPTH, check_raw, check_storable

VARIANTS = [{"key": "a", "weight": 0.5}, {"key": "b", "weight": 0.5}]


def _spec(**extra: Any) -> dict[str, Any]:
    return {"key": "k", "variants": VARIANTS, **extra}


def _nested(depth: int) -> dict[str, Any]:
    condition: dict[str, Any] = {"attribute": "x", "eq": 1}
    for _ in range(depth):
        condition = {"not": condition}
    return condition


def test_nesting_is_bounded_and_the_limit_itself_is_fine() -> None:
    Experiment.model_validate(_spec(targeting=_nested(MAX_DEPTH - 2)))
    with pytest.raises(SpecError, match="nested deeper than 32"):
        Experiment.model_validate(_spec(targeting=_nested(MAX_DEPTH)))


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ({"name": "\ud800"}, "name"),
        ({"exclude": ["ok", "\udfff"]}, "exclude[1]"),
        ({"forced": {"\ud800": "a"}}, "forced"),
        ({"hypothesis": "h" * 10_001}, "hypothesis"),
    ],
)
def test_bad_text_is_named(extra: dict[str, Any], where: str) -> None:
    with pytest.raises(SpecError, match=where.replace("[", r"\[").replace("]", r"\]")):
        Experiment.model_validate(_spec(**extra))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_numbers_must_be_finite_everywhere(bad: float) -> None:
    metric = {"name": "m", "event": "e", "window": {"start_hours": 0, "end_hours": bad}}
    with pytest.raises(SpecError):
        Experiment.model_validate(_spec(metrics=[metric]))
    with pytest.raises(SpecError):
        Experiment.model_validate(_spec(targeting={"attribute": "x", "gt": bad}))
    with pytest.raises(ValueError, match="finite"):
        Rule(attribute="x", lt=bad)
    with pytest.raises(SpecError, match="finite"):
        check_raw({"a": [1.0, bad]})


@pytest.mark.parametrize(
    "extra",
    [{"key": "k" * 201}, {"salt": "s" * 401}, {"unit": "u" * 201}, {"holdout": {
        "name": "h", "fraction": 0.1, "salt": "s" * 401}}],
)  # fmt: skip
def test_keys_and_salts_fit_the_registry_columns(extra: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="at most"):
        Experiment.model_validate(_spec(**extra))


def test_a_valid_spec_round_trips_and_reports_its_json() -> None:
    exp = Experiment.model_validate(
        _spec(
            targeting={
                "all": [{"attribute": "c", "in": ["fr", "de"]}, {"attribute": "v", "gte": 2}]
            },
            exclude=["0123"],
            metrics=[{"name": "m", "event": "e"}],
        )
    )
    text = check_storable(exp)
    assert Experiment.model_validate_json(text) == exp


def test_yaml_deeper_than_the_parser_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="nested too deeply"):
        loads_experiments("a: " + "[" * 50_000)


def test_yaml_aliases_cannot_multiply_a_spec() -> None:
    lines = ["key: k", f"variants: {VARIANTS}", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    start = time.monotonic()
    with pytest.raises(SpecError, match="too large"):
        loads_experiments("\n".join(lines))
    assert time.monotonic() - start < 10


def test_a_catastrophic_regex_matches_in_linear_time() -> None:
    rule = Rule(attribute="n", regex="^(a+)+$")
    start = time.process_time()  # CPU time: the same on a loaded machine
    assert not rule.matches({"n": "a" * 5000 + "b"})
    assert rule.matches({"n": "a" * 27})
    assert not rule.matches({"n": "\ud800"})
    assert time.process_time() - start < 0.5


@pytest.mark.parametrize("pattern", ["(?=a)", "(a)\\1", "(?<=a)b", "[", "x" * 1001])
def test_patterns_re2_cannot_match_linearly_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"regex|regular expression"):
        Rule(attribute="n", regex=pattern)


def test_metrics_files_stay_inside_the_directory(tmp_path: Path) -> None:
    root = tmp_path / "metrics"
    root.mkdir()
    (root / "ok.yaml").write_text("metrics:\n  - {name: shared, event: buy}\n")
    (tmp_path / "outside.yaml").write_text("metrics:\n  - {name: outside, event: buy}\n")
    (root / "link.yaml").symlink_to(tmp_path / "outside.yaml")
    assert [m.name for m in load_confined_metrics(["ok.yaml"], root)] == ["shared"]
    for name in ("../outside.yaml", str(tmp_path / "outside.yaml"), "link.yaml", "/dev/zero"):
        with pytest.raises(SpecError):
            load_confined_metrics([name], root)
    with pytest.raises(NotFoundError):
        load_confined_metrics(["missing.yaml"], root)
    with pytest.raises(SpecError, match="not accepted"):
        load_confined_metrics(["ok.yaml"], None)
    text = f"key: k\nvariants: {VARIANTS}\nmetrics_files: [../outside.yaml]\n"
    with pytest.raises(SpecError, match="metrics_files"):
        loads_experiments(text, base_dir=root, confine=True)
    # Files named by a trusted spec file (the CLI) still resolve against its directory.
    assert loads_experiments(text, base_dir=root)[0].shared_metrics[0].name == "outside"
