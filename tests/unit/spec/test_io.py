"""YAML load/dump: located errors, shared metrics files, lossless round trip, examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipit.errors import NotFoundError, SpecError
from shipit.spec import (
    Experiment,
    dump_experiment,
    dump_experiments,
    load_experiment,
    load_experiments,
    loads_experiments,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_examples_load() -> None:
    two = load_experiment(EXAMPLES / "checkout_button.yaml")
    assert two.variant_keys == ("control", "green")
    assert [g.metric for g in two.guardrails] == ["page_load_ms", "refunds"]
    many = load_experiment(EXAMPLES / "search_ranking.yaml")
    assert many.namespace is not None
    assert many.namespace.name == "search"
    assert many.control_variant == "baseline"
    assert set(many.metric_defs()) >= {"revenue", "searches", "page_load_ms"}
    assert many.targeting is not None
    assert many.targeting.matches({"country": "US", "age": 30, "platform": "web"})


def test_errors_name_file_line_path_and_reason(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "key: bad\n"
        "variants:\n"
        "  - {key: a, weight: 0.5}\n"
        "  - {key: b, weight: 0.6}\n"
        "metrics:\n"
        "  - {name: revenue, event: buy}\n"
        "primary_metric: revenue\n"
        "guardrails:\n"
        "  - {metric: revenue}\n"
    )
    with pytest.raises(SpecError) as info:
        load_experiment(spec)
    lines = str(info.value).splitlines()
    assert lines == [
        f"{spec}:3: variants: weights must sum to 1, got 0.5 + 0.6 = 1.1",
        f"{spec}:9: guardrails[0].metric: 'revenue' is the primary metric; "
        "a guardrail watches another metric",
    ]


def test_type_errors_are_located(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "key: bad\ntraffic: 2\nvariants:\n  - {key: a, weight: 0.5}\n  - {key: b, weight: 0.5}\n"
        "targeting:\n  all:\n    - {attribute: x, regex: '('}\n    - {attribute: y, foo: 1}\n"
    )
    with pytest.raises(SpecError) as info:
        load_experiment(spec)
    lines = str(info.value).splitlines()
    assert lines[0] == f"{spec}:2: traffic: Input should be less than or equal to 1"
    assert lines[1].startswith(f"{spec}:8: targeting.all[0].regex: invalid regular expression")
    assert lines[2] == f"{spec}:9: targeting.all[1].foo: unknown field"
    assert len(lines) == 3


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("key: x\nvariants: [\n")
    with pytest.raises(SpecError, match=r"broken.yaml:\d+: invalid YAML"):
        load_experiment(spec)


def test_missing_spec_file() -> None:
    with pytest.raises(NotFoundError, match="file not found"):
        load_experiment("nowhere.yaml")


def test_missing_metrics_file_is_named(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "key: s\nmetrics_files: [gone.yaml]\n"
        "variants: [{key: a, weight: 0.5}, {key: b, weight: 0.5}]\n"
    )
    with pytest.raises(SpecError, match=r"metrics_files: .*gone.yaml: file not found"):
        load_experiment(spec)


def test_bad_metric_in_shared_file_is_located(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("metrics:\n  - {name: ok, event: e}\n  - {name: bad}\n")
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "key: s\nmetrics_files: [m.yaml]\n"
        "variants: [{key: a, weight: 0.5}, {key: b, weight: 0.5}]\n"
    )
    with pytest.raises(SpecError, match=r"m.yaml:3: metrics\[1\]: a metric needs an event"):
        load_experiment(spec)


def test_overlapping_namespace_ranges_in_one_file() -> None:
    text = """
experiments:
  - key: one
    variants: [{key: a, weight: 0.5}, {key: b, weight: 0.5}]
    namespace: {name: ns, range: [0, 0.6]}
  - key: two
    variants: [{key: a, weight: 0.5}, {key: b, weight: 0.5}]
    namespace: {name: ns, range: [0.5, 1]}
  - key: three
    variants: [{key: a, weight: 0.5}, {key: b, weight: 0.5}]
    namespace: {name: other, range: [0.5, 1]}
"""
    with pytest.raises(SpecError) as info:
        loads_experiments(text, "f.yaml")
    assert str(info.value) == (
        "f.yaml: experiments[1].namespace.range: 'two' overlaps 'one' (experiments[0]) in "
        "namespace 'ns': [0.5, 1.0] vs [0.0, 0.6]"
    )


def test_disjoint_targeting_may_share_a_range_and_duplicate_keys_may_not() -> None:
    text = """
experiments:
  - key: one
    variants: [{key: a, weight: 0.5}, {key: b, weight: 0.5}]
    namespace: {name: ns}
    targeting: {attribute: country, eq: US}
  - key: two
    variants: [{key: a, weight: 0.5}, {key: b, weight: 0.5}]
    namespace: {name: ns}
    targeting: {all: [{attribute: country, in: [FR, DE]}]}
"""
    assert [e.key for e in loads_experiments(text)] == ["one", "two"]
    with pytest.raises(SpecError, match="duplicate experiment key 'one'"):
        loads_experiments(text.replace("key: two", "key: one"))


def test_round_trip_of_the_examples_is_lossless(tmp_path: Path) -> None:
    for name in ("checkout_button.yaml", "search_ranking.yaml"):
        original = load_experiment(EXAMPLES / name)
        text = dump_experiment(original)
        again = loads_experiments(text, base_dir=EXAMPLES)[0]
        assert again == original
        assert dump_experiment(again) == text
        assert Experiment.model_validate(original.to_dict(with_shared=True)) == original


_keys = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
# Text YAML would read as something else when written bare: it must come back as text.
_TRICKY = ["null", "~", "yes", "No", "on", "1.0", "0123", "1_000", "1e3", "0x1A", "", " a ", "#x"]
_text = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20),
    st.sampled_from([*_TRICKY, "a: b", "- x", "[1]", "{}", "'q'", '"q"', "x\ny"]),
)
_unit_ids = st.one_of(_keys, st.sampled_from(_TRICKY[:-3]), st.integers(0, 10**6).map(str))
_rule = (
    st.builds(
        lambda attr, op, v: {"attribute": attr, op: v},
        _keys,
        st.sampled_from(["eq", "ne", "in", "not_in", "gte", "lt", "regex"]),
        st.integers(-5, 5),
    )
    .map(lambda r: {**r, **({"in": [r["in"]]} if "in" in r else {})})
    .map(lambda r: {**r, **({"not_in": [r["not_in"]]} if "not_in" in r else {})})
    .map(lambda r: {**r, **({"regex": str(r["regex"])} if "regex" in r else {})})
)
_condition = st.recursive(
    _rule,
    lambda inner: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, inner),
    ),
    max_leaves=6,
)


@st.composite
def _metric(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """A metric with some of its optional parts."""
    metric: dict[str, Any] = {"name": name, "event": draw(_keys), "description": draw(_text)}
    if draw(st.booleans()):
        kinds = ["sum", "count", "count_distinct", "any", "max"]
        metric["aggregation"] = draw(st.sampled_from(kinds))
    if draw(st.booleans()):
        metric["window"] = {"start_hours": draw(st.sampled_from([0.0, 1.5])), "end_hours": 72.0}
    if draw(st.booleans()):
        metric["winsorize"] = draw(st.sampled_from([0.95, 0.99]))
    if draw(st.booleans()):
        metric["covariates"] = [{"name": "pre_" + name, "event": draw(_keys)}]
    if draw(st.booleans()):
        metric["higher_is_better"] = False
    return metric


@st.composite
def experiments(draw: st.DrawFn) -> dict[str, Any]:
    """Valid experiment specs as plain data, using most optional fields."""
    n = draw(st.integers(2, 5))
    keys = draw(st.lists(_keys, min_size=n, max_size=n, unique=True))
    cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, 100]
    variants = [
        {"key": k, "weight": (bounds[i + 1] - bounds[i]) / 100, "name": draw(_text)}
        for i, k in enumerate(keys)
    ]
    total = sum(v["weight"] for v in variants)
    variants[-1]["weight"] = round(variants[-1]["weight"] + 1 - total, 12)
    names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
    metric_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    data: dict[str, Any] = {
        "key": draw(_keys),
        "name": draw(_text),
        "hypothesis": draw(_text),
        "variants": variants,
        "traffic": draw(st.floats(0.01, 1.0)),
        "owner": draw(_text),
        "unit": draw(st.sampled_from(["user_id", "device_id", "session"])),
        "hash_version": draw(st.sampled_from([1, 2])),
        "kill_switch": draw(st.booleans()),
        "metrics": [draw(_metric(m)) for m in metric_names],
        "primary_metric": metric_names[0],
        "secondary_metrics": metric_names[1:2],
        "guardrails": [
            {
                "metric": m,
                "direction": draw(st.sampled_from([None, "lower_is_better"])),
                draw(st.sampled_from(["threshold", "relative_threshold"])): 0.05,
                draw(st.sampled_from(["margin", "relative_margin"])): 0.01,
            }
            for m in metric_names[2:]
        ],
        "exclude": draw(st.lists(_unit_ids, max_size=3, unique=True)),
        "analysis": {
            "method": draw(st.sampled_from(["frequentist", "bayesian", "sequential"])),
            "alpha": draw(st.floats(0.001, 0.2)),
            "correction": draw(
                st.sampled_from(["none", "bonferroni", "holm", "bh", "sidak", "hommel", "by"])
            ),
            "segments": draw(st.lists(_keys, max_size=2)),
        },
    }
    if draw(st.booleans()):
        data["targeting"] = draw(_condition)
    if draw(st.booleans()):
        lo = draw(st.floats(0, 0.5))
        data["namespace"] = {"name": draw(_keys), "range": [lo, lo + 0.5]}
    if draw(st.booleans()):
        data["holdout"] = {"name": draw(_keys), "fraction": draw(st.floats(0.01, 0.5))}
    if draw(st.booleans()):
        data["control"] = keys[-1]
    if draw(st.booleans()):
        data["salt"] = draw(st.one_of(_text.filter(bool), st.sampled_from(_TRICKY[:-3])))
    forced = draw(st.lists(_unit_ids, max_size=3, unique=True))
    data["forced"] = {u: keys[0] for u in forced if u not in data["exclude"]}
    if draw(st.booleans()):
        data["start"], data["end"] = "2026-01-05", "2026-02-01"
    return data


@settings(max_examples=80, deadline=None)
@given(experiments())
def test_yaml_round_trip_is_lossless(data: dict[str, Any]) -> None:
    exp = Experiment.model_validate(data)
    text = dump_experiment(exp)
    again = loads_experiments(text)[0]
    assert again == exp
    assert dump_experiment(again) == text
    other = exp.model_copy(update={"key": exp.key + "x", "namespace": None})
    assert load_many_round_trip([exp, other])


def load_many_round_trip(exps: list[Experiment]) -> bool:
    """Several experiments in one file come back equal too."""
    return loads_experiments(dump_experiments(exps)) == exps


def test_load_experiments_reads_a_file(tmp_path: Path) -> None:
    exp = load_experiment(EXAMPLES / "checkout_button.yaml").model_copy(
        update={
            "metrics_files": (),
            "shared_metrics": (),
            "primary_metric": None,
            "secondary_metrics": (),
            "guardrails": (),
        }
    )
    path = tmp_path / "x.yaml"
    path.write_text(dump_experiment(exp))
    assert load_experiments(path) == [exp]


def test_unit_ids_and_salts_keep_the_text_written() -> None:
    """YAML reads 0123 as octal 83 and 1_000 as 1000: unit ids and salts stay as written."""
    text = (
        "key: ids\nsalt: 0123\n"
        "variants: [{key: a, weight: 0.5}, {key: b, weight: 0.5}]\n"
        "exclude: [0123, 1_000, 12.50, 'quoted', 7, yes]\n"
        "forced: {0042: b, 1e3: a}\n"
        "namespace: {name: ns, salt: 0777}\n"
        "holdout: {name: h, fraction: 0.1, salt: 010}\n"
    )
    exp = loads_experiments(text)[0]
    assert exp.salt == "0123"
    assert exp.exclude == ("0123", "1_000", "12.50", "quoted", "7", "yes")
    assert exp.forced == {"0042": "b", "1e3": "a"}
    assert exp.namespace is not None
    assert exp.namespace.salt == "0777"
    assert exp.holdout is not None
    assert exp.holdout.salt == "010"
    assert loads_experiments(dump_experiment(exp))[0] == exp


_BASE = (
    "key: e\nvariants:\n  - {key: a, weight: 0.5}\n  - {key: b, weight: 0.5}\n"
    "metrics:\n  - {name: m, event: e}\n  - {name: g, event: e}\nprimary_metric: m\n"
)
_G = "  - {name: g, event: e}\n"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            _BASE.replace(
                "weight: 0.5}\n  - {key: b, weight: 0.5", "weight: 0.5}\n  - {key: b, weight: 0.6"
            ),
            "3: variants: weights must sum to 1, got 0.5 + 0.6 = 1.1",
        ),
        (_BASE.replace("key: b", "key: a"), "4: variants[1].key: duplicate variant key 'a'"),
        (_BASE + "control: z\n", "9: control: unknown variant 'z'; variants are ['a', 'b']"),
        (_BASE + "forced: {u1: z}\n", "9: forced.u1: unknown variant 'z'; variants are ['a', 'b']"),
        (
            _BASE.replace("name: g", "name: m"),
            "7: metrics[1].name: metric 'm' is already defined in metrics",
        ),
        (
            _BASE.replace("primary_metric: m", "primary_metric: zz"),
            "8: primary_metric: unknown metric 'zz' (known metrics: g, m)",
        ),
        (
            _BASE + "secondary_metrics: [zz]\n",
            "9: secondary_metrics[0]: unknown metric 'zz' (known metrics: g, m)",
        ),
        (
            _BASE + "secondary_metrics: [m]\n",
            "9: secondary_metrics[0]: 'm' is already the primary metric",
        ),
        (
            _BASE + "guardrails:\n  - {metric: m}\n",
            "10: guardrails[0].metric: 'm' is the primary metric; "
            "a guardrail watches another metric",
        ),
        (
            _BASE + "guardrails:\n  - {metric: zz}\n",
            "10: guardrails[0].metric: unknown metric 'zz' (known metrics: g, m)",
        ),
        (
            _BASE + "guardrails:\n  - {metric: g, threshold: 1, relative_threshold: 0.1}\n",
            "10: guardrails[0]: give threshold or relative_threshold, not both",
        ),
        (
            _BASE + "start: 2026-02-01\nend: 2026-01-01\n",
            "10: end: planned end 2026-01-01 is before planned start 2026-02-01",
        ),
        (
            _BASE + "exclude: [u1]\nforced: {u1: a}\n",
            "9: exclude[0]: unit 'u1' is both excluded and forced",
        ),
        (
            _BASE + "namespace: {name: n, range: [0.5, 0.2]}\n",
            "9: namespace.range: range must satisfy 0 <= start < end <= 1, got [0.5, 0.2]",
        ),
        (
            _BASE + "holdout: {name: h, fraction: 1.5}\n",
            "9: holdout.fraction: Input should be less than 1",
        ),
        (
            _BASE + "analysis:\n  bayesian:\n    prior: {kind: flat, sd: 1}\n",
            "11: analysis.bayesian.prior: a flat prior takes no sd",
        ),
        (
            _BASE.replace(_G, "  - name: g\n    numerator: {event: x}\n"),
            "7: metrics[1]: a ratio metric needs both numerator and denominator",
        ),
        (
            _BASE.replace(
                _G,
                "  - name: g\n    event: e\n    numerator: {event: x}\n"
                "    denominator: {event: y}\n",
            ),
            "7: metrics[1]: a ratio metric takes numerator/denominator, not event",
        ),
        (
            _BASE.replace(_G, "  - {name: g}\n"),
            "7: metrics[1]: a metric needs an event (or a numerator and denominator, "
            "a funnel, or a column of a per-unit table)",
        ),
        (
            _BASE.replace(
                _G, "  - name: g\n    event: e\n    window: {start_hours: 5, end_hours: 1}\n"
            ),
            "9: metrics[1].window: window end (1.0 h) must be after its start (5.0 h)",
        ),
        (
            _BASE.replace(
                _G,
                "  - name: g\n    event: e\n    covariates:\n"
                "      - {name: c, event: e, column: x}\n",
            ),
            "10: metrics[1].covariates[0]: "
            "a covariate takes either an event or a units-table column",
        ),
        (
            _BASE + "targeting:\n  all:\n    - {attribute: x}\n",
            "11: targeting.all[0]: a rule needs an operator: "
            "eq, ne, in, not_in, gt, gte, lt, lte or regex",
        ),
        (
            _BASE + "targeting: {attribute: x, gt: 5, lt: 2}\n",
            "9: targeting: range on 'x' is empty",
        ),
        (_BASE + "colour: red\n", "9: colour: unknown field"),
    ],
)
def test_each_rule_gives_file_line_path_and_reason(text: str, line: str) -> None:
    """One line per mistake: ``file:line: yaml.path: reason``, for every validation rule."""
    loads_experiments(_BASE, "f.yaml")  # the base is valid: each case has exactly one mistake
    with pytest.raises(SpecError) as info:
        loads_experiments(text, "f.yaml")
    assert str(info.value) == f"f.yaml:{line}"
