"""Serving an interleaving experiment: the spec block, the team-draft merge and its input checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipit.assign.interleave import interleave, merge_team_draft
from shipit.bandits.interleaving import team_draft
from shipit.errors import InputError
from shipit.metrics.interleaving import interleaving_counts
from shipit.spec import Experiment, SpecValidationError
from shipit.store.engine import connect
from shipit.store.tables import TABLES

SPEC: dict[str, Any] = {
    "key": "search-il",
    "type": "interleaving",
    "variants": [{"key": "bm25", "weight": 0.5}, {"key": "learned", "weight": 0.5}],
    "interleaving": {"click_event": "click"},
}
RANKINGS = {"bm25": ["d1", "d2", "d3", "d4"], "learned": ["d3", "d5", "d1", "d6"]}


def _exp(**changes: Any) -> Experiment:
    return Experiment.model_validate({**SPEC, **changes})


def _problem(**changes: Any) -> str:
    with pytest.raises(SpecValidationError) as info:
        _exp(**changes)
    return str(info.value)


def test_the_block_has_defaults() -> None:
    block = _exp().interleaving
    assert block is not None
    assert (block.method, block.impression_event, block.credit.count) == (
        "team_draft",
        "interleaving_impression",
        "items",
    )


def test_interleaving_needs_the_block_and_two_variants() -> None:
    assert "interleaving: required when type is 'interleaving'" in _problem(interleaving=None)
    three = [{"key": k, "weight": 1 / 3} for k in ("a", "b", "c")]
    assert "variants: an interleaving experiment compares exactly two rankers" in _problem(
        variants=three
    )
    assert "interleaving: only for type 'interleaving'" in _problem(type="ab")
    message = _problem(interleaving={"click_event": "interleaving_impression"})
    assert "interleaving.click_event: must differ from impression_event" in message


def test_the_merge_is_deterministic_per_unit_and_query() -> None:
    exp = _exp()
    one = interleave(exp, "u1", "shoes", RANKINGS)
    assert one == interleave(exp, "u1", "shoes", RANKINGS)
    assert sorted(one.items) == ["d1", "d2", "d3", "d4", "d5", "d6"]
    assert set(one.rankers) == {"bm25", "learned"}
    # Each ranker's items keep that ranker's order, and the teams stay balanced.
    for ranker, ranking in RANKINGS.items():
        mine = [i for i, r in zip(one.items, one.rankers, strict=True) if r == ranker]
        assert mine == [i for i in ranking if i in mine]
    counts = [one.rankers[:k].count("bm25") - one.rankers[:k].count("learned") for k in (2, 4, 6)]
    assert all(abs(c) <= 1 for c in counts)
    # Over many units each ranker picks first about half of the time.
    first = [interleave(exp, f"u{i}", "shoes", RANKINGS).rankers[0] for i in range(2000)]
    assert abs(first.count("bm25") / 2000 - 0.5) < 0.05
    assert interleave(exp, "u1", "boots", RANKINGS).session_id != one.session_id


@pytest.mark.parametrize("seed", range(40))
def test_the_merge_is_the_library_team_draft_under_the_same_coins(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    pool = [f"d{i}" for i in range(12)]
    a = list(rng.choice(pool, size=int(rng.integers(1, 9)), replace=False))
    b = list(rng.choice(pool, size=int(rng.integers(1, 9)), replace=False))
    length = int(rng.integers(1, 14))
    k = min(length, len(set(a) | set(b)))
    coins = np.random.default_rng(seed).random(max(length, 1)) < 0.5
    items, teams = merge_team_draft(a, b, k, lambda slot: bool(coins[slot]))
    ref = team_draft(a, b, length, seed=seed)
    assert items == ref.documents
    assert ["a" if t == 0 else "b" for t in teams] == ref.teams


def test_impressions_name_the_ranker_of_each_item() -> None:
    shown = interleave(_exp(), "u1", "shoes", RANKINGS)
    rows = shown.impressions()
    assert [r["properties"]["item_id"] for r in rows] == list(shown.items)
    assert [r["properties"]["ranker"] for r in rows] == list(shown.rankers)
    assert [r["properties"]["position"] for r in rows] == list(range(1, 7))
    assert len({r["event_id"] for r in rows}) == 6
    assert shown.click_properties("d5") == {"session_id": shown.session_id, "item_id": "d5"}
    with pytest.raises(InputError, match="'zz' was not shown"):
        shown.click_properties("zz")


def test_units_outside_the_experiment_see_the_control_alone() -> None:
    exp = _exp(kill_switch=True)
    shown = interleave(exp, "u1", "shoes", RANKINGS)
    assert not shown.interleaved
    assert shown.items == tuple(RANKINGS["bm25"])
    assert shown.impressions() == []


@pytest.mark.parametrize(
    ("rankings", "message"),
    [
        ({**RANKINGS, "other": ["x"]}, "rankings: unknown ranker 'other'"),
        ({"bm25": ["d1"]}, "rankings: no ranking for ranker 'learned'"),
        ({"bm25": [], "learned": ["d1"]}, "rankings.bm25: the ranking is empty"),
        ({"bm25": ["d1", "d2", "d1"], "learned": ["d1"]}, r"rankings.bm25\[2\]: item 'd1' is"),
        ({"bm25": "d1", "learned": ["d1"]}, "rankings.bm25: a list of item ids"),
        ({"bm25": [1.5], "learned": ["d1"]}, r"rankings.bm25\[0\]: an item id is text"),
    ],
)
def test_bad_rankings_are_named(rankings: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        interleave(_exp(), "u1", "q", rankings)


def test_only_interleaving_experiments_interleave() -> None:
    ab = Experiment.model_validate({**SPEC, "type": "ab", "interleaving": None})
    with pytest.raises(InputError, match="of type 'ab', not 'interleaving'"):
        interleave(ab, "u1", "q", RANKINGS)


_ids = st.lists(st.integers(0, 30).map(lambda i: f"d{i}"), min_size=1, max_size=12, unique=True)


@settings(max_examples=100, deadline=None)
@given(a=_ids, b=_ids, unit=st.text(min_size=1, max_size=8), query=st.text(max_size=8))
def test_team_draft_laws(a: list[str], b: list[str], unit: str, query: str) -> None:
    """Every item shown once; each ranker's items in its own order; while both rankers
    have items left, their team sizes never differ by more than one."""
    shown = interleave(_exp(), unit, query, {"bm25": a, "learned": b})
    assert sorted(shown.items) == sorted(set(a) | set(b))
    for ranker, ranking in (("bm25", a), ("learned", b)):
        mine = [i for i, r in zip(shown.items, shown.rankers, strict=True) if r == ranker]
        assert mine == [i for i in ranking if i in mine]
    for k in range(1, len(shown.items) + 1):
        left_a = set(a) - set(shown.items[:k])
        left_b = set(b) - set(shown.items[:k])
        if left_a and left_b:
            gap = shown.rankers[:k].count("bm25") - shown.rankers[:k].count("learned")
            assert abs(gap) <= 1


def test_a_given_session_id_names_the_session_but_the_list_follows_unit_and_query() -> None:
    """The coin is the hash of (unit, query, slot) whatever the session: a user who repeats a
    query in a new session sees the same list again; each session is logged and counted."""
    exp = _exp()
    lists = [interleave(exp, f"u{i}", "shoes", RANKINGS, session_id="s1") for i in range(60)]
    again = [interleave(exp, f"u{i}", "shoes", RANKINGS, session_id="s2") for i in range(60)]
    for one, two in zip(lists, again, strict=True):
        assert (one.items, one.rankers) == (two.items, two.rankers)
        assert (one.session_id, two.session_id) == ("s1", "s2")
    assert len({(s.items, s.rankers) for s in lists}) > 1  # the coins do vary by unit
    boots = [interleave(exp, f"u{i}", "boots", RANKINGS, session_id="s1") for i in range(60)]
    assert any(b.rankers != s.rankers for b, s in zip(boots, lists, strict=True))
    rows = lists[0].impressions() + again[0].impressions()
    assert len({r["event_id"] for r in rows}) == 12  # neither session's impressions are lost
    table = pa.Table.from_pylist(
        [{**{k: v for k, v in r.items() if k != "properties"}, **r["properties"]} for r in rows]
    )
    engine = connect(":memory:")
    engine.append(TABLES["events"], table.to_batches())
    counts = interleaving_counts(exp, engine)
    assert (counts.sessions.sessions, counts.units.units, counts.impressions) == (2, 1, 12)
