"""Assignment: reasons in order, batch == single, and the acceptance statistics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from shipit.assign import Assigner, Reason
from shipit.spec import Experiment


def _exp(**kw: Any) -> Experiment:
    data: dict[str, Any] = {
        "key": "exp",
        "variants": [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
    }
    data.update(kw)
    return Experiment.model_validate(data)


def test_srm_on_ten_million_units_at_fifty_fifty() -> None:
    batch = Assigner(_exp()).assign_batch(np.arange(10_000_000))
    counts = list(batch.counts().values())
    assert sum(counts) == 10_000_000
    assert stats.chisquare(counts).pvalue > 0.001


def test_two_experiments_are_independent() -> None:
    units = np.arange(1_000_000)
    three = [{"key": k, "weight": w} for k, w in (("a", 0.2), ("b", 0.3), ("c", 0.5))]
    a = Assigner(_exp(key="first")).assign_batch(units).index
    b = Assigner(_exp(key="second", variants=three)).assign_batch(units).index
    table = np.zeros((2, 3))
    np.add.at(table, (a, b), 1)
    assert stats.chi2_contingency(table).pvalue > 0.001


def test_dependence_would_be_caught() -> None:
    """The independence test above can fail: the same salt gives a dependent table."""
    units = np.arange(100_000)
    a = Assigner(_exp(key="first")).assign_batch(units).index
    b = Assigner(_exp(key="other", salt="first")).assign_batch(units).index
    table = np.zeros((2, 2))
    np.add.at(table, (a, b), 1)
    assert stats.chi2_contingency(table).pvalue < 1e-10


def test_ramp_up_keeps_every_earlier_unit_in_its_variant() -> None:
    units = np.arange(1_000_000)
    low = Assigner(_exp(traffic=0.1)).assign_batch(units).index
    high = Assigner(_exp(traffic=0.5)).assign_batch(units).index
    earlier = low >= 0
    assert abs(earlier.mean() - 0.1) < 0.002
    assert abs((high >= 0).mean() - 0.5) < 0.002
    np.testing.assert_array_equal(high[earlier], low[earlier])


def test_namespace_ranges_never_share_a_unit() -> None:
    units = np.arange(1_000_000)
    left = Assigner(_exp(key="l", namespace={"name": "ns", "range": [0, 0.3]}))
    right = Assigner(_exp(key="r", namespace={"name": "ns", "range": [0.3, 1]}))
    a, b = left.assign_batch(units).index >= 0, right.assign_batch(units).index >= 0
    assert not (a & b).any()
    assert a.sum() + b.sum() == len(units)
    assert abs(a.mean() - 0.3) < 0.002


FULL = {
    "key": "full",
    "variants": [
        {"key": "a", "weight": 0.25},
        {"key": "zero", "weight": 0.0},
        {"key": "b", "weight": 0.35},
        {"key": "c", "weight": 0.4},
    ],
    "control": "b",
    "traffic": 0.7,
    "namespace": {"name": "ns", "range": [0.1, 0.8]},
    "holdout": {"name": "global", "fraction": 0.1},
    "targeting": {
        "any": [
            {
                "all": [
                    {"attribute": "country", "in": ["US", "CA"]},
                    {"attribute": "age", "gte": 18},
                ]
            },
            {"attribute": "email", "regex": "@beta\\.com$"},
            {"not": {"attribute": "vip", "eq": False}},
        ]
    },
    "exclude": ["u7", "u11"],
    "forced": {"u3": "c", "u5": "zero"},
}


def _attributes(n: int, rng: np.random.Generator) -> dict[str, list[Any]]:
    return {
        "country": rng.choice(np.array(["US", "CA", "FR", None], dtype=object), n).tolist(),
        "age": [None if x < 15 else int(x) for x in rng.integers(10, 70, n)],
        "email": rng.choice(["a@beta.com", "b@x.org", ""], n).tolist(),
        "vip": rng.choice(np.array([True, False, "false", None], dtype=object), n).tolist(),
    }


@pytest.mark.parametrize("version", [1, 2])
def test_batch_agrees_with_single_calls_with_every_feature(
    version: int, rng: np.random.Generator
) -> None:
    assigner = Assigner(Experiment.model_validate({**FULL, "hash_version": version}))
    n = 20_000
    units = np.array([f"u{i}" for i in range(n)])
    attrs = _attributes(n, rng)
    batch = assigner.assign_batch(units, attrs)
    singles = [assigner.assign(units[i], {k: v[i] for k, v in attrs.items()}) for i in range(n)]
    assert [batch[i] for i in range(n)] == singles
    seen = {s.reason for s in singles}
    assert seen == set(Reason) - {Reason.KILL_SWITCH}
    assert batch[3].variant == "c"
    assert batch[5].variant == "zero"
    assert batch[7].reason is Reason.EXCLUDED


def test_batch_agrees_with_single_calls_on_one_million_units() -> None:
    assigner = Assigner(
        _exp(
            traffic=0.6,
            variants=[
                {"key": "a", "weight": 0.2},
                {"key": "b", "weight": 0.3},
                {"key": "c", "weight": 0.5},
            ],
        )
    )
    units = np.array([f"user-{i}" for i in range(1_000_000)])
    batch = assigner.assign_batch(units).variant_array().tolist()
    single = [assigner.assign(u).variant for u in units.tolist()]
    assert batch == single


def test_kill_switch_sends_everyone_but_the_excluded_and_forced_to_control() -> None:
    """Exclusion beats everything; a forced QA unit keeps its variant under the kill switch."""
    assigner = Assigner(Experiment.model_validate({**FULL, "kill_switch": True}))
    units = np.array([f"u{i}" for i in range(100)])
    batch = assigner.assign_batch(units)
    reasons = batch.reasons()
    expected = {"u3": ("c", Reason.FORCED), "u5": ("zero", Reason.FORCED)}
    expected |= {"u7": (None, Reason.EXCLUDED), "u11": (None, Reason.EXCLUDED)}
    for i, unit in enumerate(units.tolist()):
        variant, reason = expected.get(unit, ("b", Reason.KILL_SWITCH))
        assert (batch[i].variant, reasons[i]) == (variant, reason), unit
        assert assigner.assign(unit) == batch[i]


def test_weights_are_honoured(rng: np.random.Generator) -> None:
    variants = [
        {"key": "a", "weight": 0.1},
        {"key": "b", "weight": 0.2},
        {"key": "c", "weight": 0.7},
    ]
    counts = Assigner(_exp(variants=variants)).assign_batch(np.arange(500_000)).counts()
    observed = np.array(list(counts.values()))
    assert stats.chisquare(observed, 500_000 * np.array([0.1, 0.2, 0.7])).pvalue > 0.001


@pytest.mark.parametrize("version", [1, 2])
def test_unit_ids_ending_in_nul_get_the_single_call_variant(version: int) -> None:
    assigner = Assigner(_exp(hash_version=version, forced={"qa\0": "treatment"}))
    units = [f"u{i}\0" for i in range(2000)] + [f"u{i}" for i in range(2000)] + ["qa\0", "qa"]
    batch = assigner.assign_batch(units)
    assert [batch[i] for i in range(len(units))] == [assigner.assign(u) for u in units]
    assert batch[len(units) - 2].reason is Reason.FORCED
    assert batch[len(units) - 1].reason is not Reason.FORCED


def test_ramp_down_only_removes_units() -> None:
    units = np.arange(500_000)
    high = Assigner(_exp(traffic=0.5)).assign_batch(units).index
    low = Assigner(_exp(traffic=0.2)).assign_batch(units).index
    kept = low >= 0
    assert abs(kept.mean() - 0.2) < 0.002
    assert (high[kept] >= 0).all()
    np.testing.assert_array_equal(low[kept], high[kept])


def test_a_shared_holdout_keeps_the_same_units_out_of_every_experiment() -> None:
    units = np.arange(500_000)
    holdout = {"name": "global", "fraction": 0.1}
    first = Assigner(_exp(key="one", holdout=holdout)).assign_batch(units)
    second = Assigner(_exp(key="two", holdout=holdout, traffic=0.5)).assign_batch(units)
    held = np.array(first.reasons()) == Reason.HOLDOUT
    assert abs(held.mean() - 0.1) < 0.002
    np.testing.assert_array_equal(held, np.array(second.reasons()) == Reason.HOLDOUT)
    assert (first.index[held] == -1).all()
    other = Assigner(_exp(key="three", holdout={**holdout, "name": "other"})).assign_batch(units)
    other_held = np.array(other.reasons()) == Reason.HOLDOUT
    overlap = (held & other_held).mean()
    assert abs(overlap - 0.01) < 0.001  # independent holdouts: 10% of 10%


@pytest.mark.parametrize("version", [1, 2])
def test_bytes_unit_ids_are_their_utf8_text(version: int) -> None:
    """A bytes array (from Arrow or a file) assigns like the same ids as text, overrides too."""
    exp = Experiment.model_validate({**FULL, "hash_version": version, "targeting": None})
    assigner = Assigner(exp)
    text = [f"u{i}" for i in range(3000)] + ["é-1"]
    raw = np.array([t.encode() for t in text])
    batch = assigner.assign_batch(raw)
    assert [batch[i] for i in range(len(text))] == [assigner.assign(t) for t in text]
    assert [assigner.assign(t.encode()) for t in text[:50]] == [batch[i] for i in range(50)]
    assert batch[3].reason is Reason.FORCED
    assert batch[7].reason is Reason.EXCLUDED
