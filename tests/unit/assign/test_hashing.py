"""Hash versions: pinned by golden vectors, batch equals single, md5 reproducible in SQL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipit.assign.hashing import HASH_VERSIONS, hash_batch, hash_unit, md5_sql, to_unit_bytes
from shipit.errors import InputError

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def _golden(version: int) -> list[dict[str, object]]:
    path = GOLDEN / f"assignment_v{version}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("version", sorted(HASH_VERSIONS))
def test_golden_vectors_pin_every_version(version: int) -> None:
    rows = _golden(version)
    assert len(rows) >= 1000
    for row in rows:
        assert hash_unit(version, str(row["salt"]), str(row["unit"])) == row["u"], row


@pytest.mark.parametrize("version", sorted(HASH_VERSIONS))
def test_golden_vectors_hold_in_batch(version: int) -> None:
    rows = _golden(version)
    for salt in {str(r["salt"]) for r in rows}:
        sub = [r for r in rows if r["salt"] == salt]
        units = np.array([str(r["unit"]) for r in sub])
        got = hash_batch(version, salt, units)
        np.testing.assert_array_equal(got, np.array([r["u"] for r in sub]))


def test_integer_ids_hash_as_their_decimal_text() -> None:
    ids = np.array([-(10**15), -7, -1, 0, 1, 9, 10, 99, 100, 12345678, 2**62], dtype=np.int64)
    np.testing.assert_array_equal(
        hash_batch(1, "s", ids), [hash_unit(1, "s", str(i)) for i in ids.tolist()]
    )


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=12), st.lists(st.text(min_size=0, max_size=30), max_size=30))
def test_batch_equals_single_for_any_text(salt: str, units: list[str]) -> None:
    units = [u for u in units if not u.endswith("\0")]
    got = hash_batch(1, salt, np.array(units, dtype=str))
    assert got.tolist() == [hash_unit(1, salt, u) for u in units]


def test_hash_is_uniform_on_one_million_units() -> None:
    from scipy import stats

    u = hash_batch(1, "uniform", np.arange(1_000_000))
    assert u.min() >= 0.0
    assert u.max() < 1.0
    counts = np.histogram(u, bins=1000, range=(0, 1))[0]
    assert stats.chisquare(counts).pvalue > 0.001


def test_md5_version_matches_duckdb_sql() -> None:
    duckdb = pytest.importorskip("duckdb")
    units = [f"user-{i}" for i in range(2000)] + ["é中🙂", ""]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (unit VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [(u,) for u in units])
    sql = f"SELECT unit, {md5_sql(chr(39) + 'exp-1' + chr(39), 'unit')} AS u FROM t"
    got = dict(con.execute(sql).fetchall())
    for unit in units:
        assert got[unit] == hash_unit(2, "exp-1", unit)


def test_unknown_version_and_bad_ids_are_refused() -> None:
    with pytest.raises(InputError, match="unknown hash version 7"):
        hash_unit(7, "s", "u")
    with pytest.raises(InputError, match="strings or integers"):
        to_unit_bytes(np.array([1.5, 2.5]))


def _documented_mix64(salt: str, unit: str) -> float:
    """Version 1 written again from the module docstring alone, with struct and plain ints."""
    import struct

    mask = 2**64 - 1

    def fmix(h: int) -> int:
        h ^= h >> 30
        h = h * 0xBF58476D1CE4E5B9 % 2**64
        h ^= h >> 27
        h = h * 0x94D049BB133111EB % 2**64
        return h ^ (h >> 31)

    def core(seed: int, b: bytes) -> int:
        h = (seed ^ (len(b) * 0x9E3779B97F4A7C15)) & mask
        padded = b + bytes(-len(b) % 8)
        for (w,) in struct.iter_unpack("<Q", padded):
            h = fmix(h ^ w)
        return fmix(h)

    seed = core(0, salt.encode("utf-8"))
    return (core(seed, unit.encode("utf-8")) >> 11) / 2**53


@pytest.mark.parametrize("version", [1])
def test_version_one_matches_its_documentation(version: int) -> None:
    for row in _golden(version)[:300]:
        assert _documented_mix64(str(row["salt"]), str(row["unit"])) == row["u"]


def test_version_two_matches_its_documentation() -> None:
    import hashlib

    for row in _golden(2)[:300]:
        text = f"{row['salt']}.{row['unit']}".encode()
        assert int(hashlib.md5(text).hexdigest()[:13], 16) / 2**52 == row["u"]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=12), st.lists(st.text(max_size=30), max_size=30))
def test_md5_batch_equals_single_for_any_text(salt: str, units: list[str]) -> None:
    got = hash_batch(2, salt, units)
    assert got.tolist() == [hash_unit(2, salt, u) for u in units]


_IDS = st.lists(
    st.one_of(st.text(max_size=20), st.text(max_size=10).map(lambda t: t + "\0")), max_size=30
)


@settings(max_examples=60, deadline=None)
@given(salt=st.text(max_size=12), units=_IDS)
def test_lists_with_ids_ending_in_nul_hash_like_single_calls(salt: str, units: list[str]) -> None:
    """A list (or object array) keeps a trailing NUL that a numpy string array would drop."""
    for version in sorted(HASH_VERSIONS):
        expected = [hash_unit(version, salt, u) for u in units]
        assert hash_batch(version, salt, units).tolist() == expected
        as_objects = np.array([*units, "x"], dtype=object)[:-1]
        assert hash_batch(version, salt, as_objects).tolist() == expected


def test_trailing_nul_changes_the_hash_in_batch() -> None:
    got = hash_batch(1, "s", ["u", "u\0", "u\0\0"]).tolist()
    assert len(set(got)) == 3
    assert got == [hash_unit(1, "s", u) for u in ("u", "u\0", "u\0\0")]
