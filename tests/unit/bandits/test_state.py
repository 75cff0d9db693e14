"""The persisted bandit state: batched updates, safeguards, variant changes, JSON round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipit.bandits.policies import thompson_beta
from shipit.bandits.state import BanditConfig, BanditState
from shipit.errors import InputError, StateError
from shipit.stats.moments import Moments

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _batch(counts: dict[str, tuple[int, int]]) -> Moments:
    """Per-variant moments of a binary reward from (units, conversions)."""
    labels = list(counts)
    n = [counts[k][0] for k in labels]
    s = [counts[k][1] for k in labels]
    return Moments.from_sums(labels, ["reward"], n, s, s)


def test_start_logs_an_equal_split() -> None:
    state = BanditState.start(["a", "b"], T0)
    assert state.weights == {"a": 0.5, "b": 0.5}
    assert state.periods[0].start == T0
    assert state.periods[0].reason == "start"


def test_update_gives_thompson_weights_from_summed_batches() -> None:
    state = BanditState.start(["a", "b"], T0)
    state = state.update(_batch({"a": (100, 10), "b": (100, 14)}), T0 + timedelta(minutes=10))
    state = state.update(_batch({"a": (50, 6), "b": (70, 11)}), T0 + timedelta(minutes=20))
    expect = thompson_beta([16, 25], [150, 170])
    assert [state.weights["a"], state.weights["b"]] == pytest.approx(expect)
    assert [p.start for p in state.periods] == [T0 + timedelta(minutes=m) for m in (0, 10, 20)]


def test_burn_in_min_share_and_warm_start() -> None:
    cfg = BanditConfig(burn_in=100, min_share=0.1)
    state = BanditState.start(["a", "b"], T0, cfg)
    state = state.update(_batch({"a": (60, 1), "b": (60, 30)}), T0 + timedelta(hours=1))
    assert len(state.periods) == 1  # still burning in: weights unchanged, nothing logged
    state = state.update(_batch({"a": (60, 1), "b": (60, 30)}), T0 + timedelta(hours=2))
    assert state.weights["a"] == pytest.approx(0.1)  # clearly worse, held at the floor
    warm = BanditState.start(["a", "b"], T0).warm_start(
        _batch({"a": (1000, 200), "b": (1000, 100)}), weight=0.5
    )
    assert warm.totals("a").n == 500
    assert warm.totals("a", with_prior=False).n == 0
    warm = warm.allocate(T0 + timedelta(minutes=1))
    assert warm.weights["a"] > 0.99


def test_variants_can_be_added_and_retired_while_running() -> None:
    state = BanditState.start(["a", "b"], T0)
    state = state.update(_batch({"a": (500, 50), "b": (500, 75)}), T0 + timedelta(hours=1))
    state = state.add_variant("c", T0 + timedelta(hours=2))
    assert state.periods[-1].reason == "added c"
    assert state.weights["c"] > 0
    state = state.retire_variant("a", T0 + timedelta(hours=3))
    assert state.weights["a"] == 0.0
    assert state.active == ["b", "c"]
    assert sum(state.weights.values()) == pytest.approx(1.0)
    with pytest.raises(StateError, match="already exists"):
        state.add_variant("b", T0 + timedelta(hours=4))
    with pytest.raises(StateError, match="not an active"):
        state.retire_variant("a", T0 + timedelta(hours=4))


def test_other_policies_and_continuous_rewards() -> None:
    batch = Moments.from_arrays(["a"] * 3 + ["b"] * 3, {"reward": [1.0, 2.0, 3.0, 5.0, 6.0, 7.0]})
    for policy in ("ucb", "egreedy", "top_two", "gaussian_thompson", "fixed"):
        cfg = BanditConfig(policy=policy, reward_kind="continuous")
        state = BanditState.start(["a", "b"], T0, cfg).update(batch, T0 + timedelta(hours=1))
        w = state.weights
        assert sum(w.values()) == pytest.approx(1.0)
        assert w["b"] >= w["a"]


def test_a_variant_without_data_is_tried_first_by_every_policy() -> None:
    # A batch that misses a variant, or a variant added later, leaves it without data.
    for policy in ("thompson", "ucb", "egreedy", "top_two", "gaussian_thompson"):
        cfg = BanditConfig(policy=policy, epsilon=0.1)
        state = BanditState.start(["a", "b"], T0, cfg)
        state = state.update(_batch({"a": (100, 10)}), T0 + timedelta(hours=1))
        assert sum(state.weights.values()) == pytest.approx(1.0)
        added = state.add_variant("c", T0 + timedelta(hours=2))
        assert sum(added.weights.values()) == pytest.approx(1.0)
        if policy in ("ucb", "egreedy"):  # the untried variants lead
            assert state.weights["b"] > state.weights["a"]
            assert added.weights["c"] >= added.weights["a"]


def test_bad_input_is_refused() -> None:
    state = BanditState.start(["a", "b"], T0)
    with pytest.raises(InputError, match="unknown variant 'z'"):
        state.update(_batch({"z": (10, 1)}), T0)
    with pytest.raises(InputError, match="time zone"):
        state.allocate(datetime(2026, 1, 2))
    with pytest.raises(InputError, match="before the current period"):
        state.allocate(T0 - timedelta(days=1))
    with pytest.raises(InputError, match="invalid bandit state"):
        BanditState.from_json('{"variants": "nope"}')


@given(
    data=st.lists(st.tuples(st.integers(1, 500), st.floats(0, 1)), min_size=1, max_size=5),
    policy=st.sampled_from(["thompson", "ucb", "egreedy", "top_two"]),
)
@settings(max_examples=30, deadline=None)
def test_json_round_trip_keeps_everything(data: list[tuple[int, float]], policy: str) -> None:
    state = BanditState.start(["a", "b"], T0, BanditConfig(policy=policy, min_share=0.05))
    for i, (n, frac) in enumerate(data):
        conv = int(n * frac)
        batch = _batch({"a": (n, conv), "b": (n, n - conv)})
        state = state.update(batch, T0 + timedelta(minutes=i + 1))
    back = BanditState.from_json(state.to_json())
    assert back == state
    # A restarted server computes the same next weights.
    later = T0 + timedelta(days=1)
    more = _batch({"a": (7, 3), "b": (9, 2)})
    assert back.update(more, later).weights == state.update(more, later).weights
    assert np.all(np.array(list(back.weights.values())) >= 0.05 - 1e-12)


def test_json_contract_for_the_assignment_layer() -> None:
    """Each period carries its start time, its weights by variant and the reason."""
    import json

    state = BanditState.start(["a", "b"], T0).update(
        _batch({"a": (100, 5), "b": (100, 20)}), T0 + timedelta(minutes=5)
    )
    doc = json.loads(state.to_json())
    assert set(doc) == {"config", "variants", "retired", "data", "prior", "periods"}
    first, second = doc["periods"]
    assert first == {
        "start": "2026-01-01T00:00:00Z",
        "weights": {"a": 0.5, "b": 0.5},
        "reason": "start",
    }
    assert second["start"] == "2026-01-01T00:05:00Z"
    assert second["weights"]["b"] > 0.9
    assert second["reason"] == "update"
