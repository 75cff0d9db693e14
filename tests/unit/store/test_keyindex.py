"""KeyIndex admits each key once, checked against a Python set on seeded random traffic."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from shipit.store import keyindex
from shipit.store.keyindex import KeyIndex, _Run, hash_keys


def test_admit_matches_a_set_over_many_batches() -> None:
    rng = random.Random(7)
    index, seen = KeyIndex(), set()
    index.add([f"old{i}" for i in range(5_000)])
    seen.update(f"old{i}" for i in range(5_000))
    for _ in range(300):
        keys: list[str | None] = [
            None if rng.random() < 0.02 else f"{rng.choice(['old', 'k'])}{rng.randrange(20_000)}"
            for _ in range(rng.randrange(1, 200))
        ]
        expected = []
        batch_seen: set[str] = set()
        for k in keys:
            expected.append(k is None or (k not in seen and k not in batch_seen))
            if k is not None:
                batch_seen.add(k)
        assert index.admit(keys).tolist() == expected
        seen |= batch_seen
        index.compact()
    assert len(index) == len(seen)
    assert len(index._runs) <= 2 * int(np.log2(len(seen))) + 2


def test_rollback_forgets_a_failed_commit() -> None:
    index = KeyIndex()
    index.add(["a"])
    mark = index.mark()
    assert index.admit(["b", "a", "b"]).tolist() == [True, False, False]
    index.rollback(mark)
    assert index.admit(["b"]).tolist() == [True]
    assert len(index) == 2


def test_digests_sharing_a_first_word_are_told_apart() -> None:
    words = np.array([[5, 1], [5, 2], [5, 3], [9, 1]], dtype=np.uint64)
    run = _Run(words)
    probe = np.array([[5, 3], [5, 4], [9, 1], [1, 1]], dtype=np.uint64)
    assert run.contains(probe).tolist() == [True, False, True, False]
    assert hash_keys(["x", "x", "y"]).shape == (3, 2)
    assert (hash_keys(["x"]) == hash_keys(["x"])).all()


def test_bucketed_runs_answer_like_a_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyindex, "_BUCKETED", 16)
    rng = random.Random(11)
    stored = [f"s{rng.randrange(10**9)}" for _ in range(3_000)]
    run = _Run(hash_keys(stored))
    assert run.starts is not None
    probe = stored[::7] + [f"x{i}" for i in range(500)]
    expected = [k in set(stored) for k in probe]
    assert run.contains(hash_keys(probe)).tolist() == expected


def test_digests_do_not_depend_on_how_the_keys_are_laid_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(3)
    keys = [
        "".join(rng.choice("ab\x00é") for _ in range(rng.randrange(0, 300))) for _ in range(500)
    ]
    whole = hash_keys(keys)
    # Sliced arrays (an offset into the buffers), equal-length keys (the reshaped path) and
    # rows padded in several chunks give each key the same digest.
    sliced = pa.array(["pad", *keys])[1:]
    assert (hash_keys(sliced) == whole).all()
    monkeypatch.setattr(keyindex, "_CHUNK", 7)
    assert (hash_keys(keys) == whole).all()
    same = [k.ljust(40, "z")[:40] for k in keys]
    assert (hash_keys(same)[::3] == hash_keys(same[::3])).all()
    # Distinct keys, distinct digests (a trailing NUL or a different length included).
    distinct = sorted(set(keys) | {"a", "a\x00", "\x00a", ""})
    digests = {tuple(d) for d in hash_keys(distinct).tolist()}
    assert len(digests) == len(distinct)


def test_admit_takes_arrow_text_with_nulls() -> None:
    index = KeyIndex()
    keep = index.admit(pa.array(["a", None, "b", "a", None]))
    assert keep.tolist() == [True, True, True, False, True]
    assert index.admit(pa.chunked_array([["b", "c"]])).tolist() == [False, True]
    assert len(index) == 3


def test_merges_made_outside_the_commit_answer_like_a_set() -> None:
    rng = random.Random(5)
    index, seen = KeyIndex(), set()
    for step in range(200):
        keys = [f"k{rng.randrange(50_000)}" for _ in range(rng.randrange(1, 300))]
        expected, batch = [], set()
        for k in keys:
            expected.append(k not in seen and k not in batch)
            batch.add(k)
        assert index.admit(keys).tolist() == expected
        seen |= batch
        index.compact(limit=64)  # small merges inline, the rest left due
        if step % 7 == 0:
            while (pair := index.due_merge()) is not None:
                assert index.replace(*pair, _Run.merged(*pair))
    assert len(index) == len(seen)
    merged = _Run.merged(*index._runs[:2])
    both = np.concatenate([np.stack([r.hi, r.lo], axis=1) for r in index._runs[:2]])
    assert merged.hi.tolist() == sorted(both[:, 0].tolist())
    pairs = zip(merged.hi.tolist(), merged.lo.tolist(), strict=True)
    assert sorted(pairs) == sorted(map(tuple, both.tolist()))


def test_a_merge_is_not_swapped_in_when_the_runs_changed_meanwhile() -> None:
    index = KeyIndex()
    index.add(["a", "b"])
    index.admit(["c", "d"])
    pair = index.due_merge()
    assert pair is not None
    merged = _Run.merged(*pair)
    index.compact()  # a commit merged them first
    assert not index.replace(*pair, merged)
    assert index.admit(["a", "c", "e"]).tolist() == [False, False, True]
