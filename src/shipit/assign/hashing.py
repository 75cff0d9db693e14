"""Versioned hashes: (version, salt, unit id) → a uniform number in [0, 1).

Both versions are pure functions of the UTF-8 bytes of the salt and the unit id, identical on
every machine and in every release; golden vectors in ``tests/golden/`` pin them.

Version 1, ``mix64`` (the default; fast, vectorized over byte arrays). All arithmetic is on
unsigned 64-bit integers modulo 2**64::

    fmix(h):  h ^= h >> 30; h *= 0xBF58476D1CE4E5B9; h ^= h >> 27;
              h *= 0x94D049BB133111EB; h ^= h >> 31          (the SplitMix64 finalizer)
    core(seed, b):  h = seed ^ (len(b) * 0x9E3779B97F4A7C15)
                    for each 8-byte chunk w of b, read little-endian, the last chunk padded
                    with zero bytes:  h = fmix(h ^ w)
                    return fmix(h)
    seed = core(0, utf8(salt));   h = core(seed, utf8(unit));   u = (h >> 11) / 2**53

Version 2, ``md5`` (portable: any SQL warehouse can recompute it for an audit)::

    u = int(first 13 hex digits of md5(utf8(salt + "." + unit)), 16) / 2**52

    DuckDB: CAST('0x' || substr(md5(salt || '.' || unit), 1, 13) AS BIGINT) / 4503599627370496.0

Version 2 in batch runs hashlib in one tight loop (about 2 million units per second): md5 has
no vectorized form in numpy, so version 2 is for audits, version 1 for volume.

A numpy string array cannot hold a unit id that ends with NUL (numpy drops trailing NULs);
pass such ids in a list or an object array, where they hash like any other text.
Integer unit ids hash as their decimal text, bytes as the text they encode in UTF-8.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypeAlias, cast

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray
from shipit.errors import InputError

__all__ = [
    "DEFAULT_HASH_VERSION",
    "HASH_VERSIONS",
    "HashVersion",
    "UnitBytes",
    "hash_batch",
    "hash_unit",
    "md5_sql",
    "seed_of",
    "to_unit_bytes",
    "unit_text",
]

HashVersion: TypeAlias = Literal[1, 2]
HASH_VERSIONS: dict[int, str] = {1: "mix64", 2: "md5"}
DEFAULT_HASH_VERSION: HashVersion = 1

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_TO_UNIT = 2.0**-53
_MD5_SCALE = 2.0**-52
_CHUNK = 1 << 20

U64Array: TypeAlias = npt.NDArray[np.uint64]


def _fmix(h: int) -> int:
    h ^= h >> 30
    h = (h * _M1) & _MASK
    h ^= h >> 27
    h = (h * _M2) & _MASK
    return h ^ (h >> 31)


def _core(seed: int, data: bytes) -> int:
    # The fmix steps are written out inline: this is the single-call hot path.
    n = len(data)
    h = seed ^ ((n * _GOLDEN) & _MASK)
    big = int.from_bytes(data, "little")
    for _ in range(0, n, 8):
        h ^= big & _MASK
        big >>= 64
        h ^= h >> 30
        h = (h * _M1) & _MASK
        h ^= h >> 27
        h = (h * _M2) & _MASK
        h ^= h >> 31
    h ^= h >> 30
    h = (h * _M1) & _MASK
    h ^= h >> 27
    h = (h * _M2) & _MASK
    return h ^ (h >> 31)


def seed_of(salt: str) -> int:
    """The 64-bit seed version 1 derives from a salt."""
    return _core(0, salt.encode("utf-8"))


def _check_version(version: int) -> None:
    if version not in HASH_VERSIONS:
        raise InputError(f"unknown hash version {version}; known: {sorted(HASH_VERSIONS)}")


def unit_text(unit: Any) -> str:
    """A unit id as text: bytes are UTF-8, integers their decimal digits."""
    return unit.decode("utf-8") if isinstance(unit, bytes) else str(unit)


def hash_unit(version: int, salt: str, unit: str | int | bytes) -> float:
    """The uniform number in [0, 1) of one unit (see the module docstring)."""
    text = unit_text(unit)
    if version == 1:
        return (_core(seed_of(salt), text.encode("utf-8")) >> 11) * _TO_UNIT
    _check_version(version)
    digest = hashlib.md5(f"{salt}.{text}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:13], 16) * _MD5_SCALE


def hash_seeded(seed: int, unit_bytes: bytes) -> float:
    """Version 1 with a precomputed seed: the single-call fast path."""
    return (_core(seed, unit_bytes) >> 11) * _TO_UNIT


def md5_sql(salt_sql: str, unit_sql: str) -> str:
    """The SQL expression (DuckDB, PostgreSQL-like) that recomputes version 2."""
    return (
        f"CAST('0x' || substr(md5({salt_sql} || '.' || {unit_sql}), 1, 13) AS BIGINT)"
        " / 4503599627370496.0"
    )


class UnitBytes:
    """Unit ids as zero-padded UTF-8 bytes: 64-bit little-endian words (one row per chunk,
    one column per unit) plus byte lengths."""

    def __init__(self, words: U64Array, lengths: npt.NDArray[np.int64]) -> None:
        self.words = words
        self.lengths = lengths

    def __len__(self) -> int:
        return int(self.lengths.shape[0])


def _from_matrix(
    mat: npt.NDArray[np.uint8] | npt.NDArray[np.uint32],
    lengths: npt.NDArray[np.int64] | None = None,
) -> UnitBytes:
    """Pack a zero-padded byte matrix (or ASCII code points) into 64-bit words."""
    n, width = mat.shape
    if lengths is None:
        nonzero = mat != 0
        lengths = (width - np.argmax(nonzero[:, ::-1], axis=1)).astype(np.int64)
        lengths[~nonzero.any(axis=1)] = 0
    padded = np.zeros((n, -(-width // 8) * 8), np.uint8)
    padded[:, :width] = mat
    words = np.ascontiguousarray(padded.view("<u8").astype(np.uint64, copy=False).T)
    return UnitBytes(words, lengths)


def _ints_to_matrix(values: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """Decimal ASCII digits of integers, left-aligned and zero-padded (vectorized)."""
    v = values.astype(np.int64)
    negative = v < 0
    a = np.abs(v).astype(np.uint64)
    digits = np.ones(len(a), np.int64)
    for k in range(1, 20):
        digits += a >= np.uint64(10**k)
    sign = negative.astype(np.int64)
    width = int((digits + sign).max())
    mat = np.zeros((len(a), width), np.uint8)
    rows = np.arange(len(a))
    for p in range(int(digits.max())):
        valid = digits > p
        pos = digits - 1 - p + sign
        mat[rows[valid], pos[valid]] = (a[valid] % np.uint64(10)).astype(np.uint8) + 48
        a //= np.uint64(10)
    mat[negative, 0] = ord("-")
    return mat


def to_unit_bytes(units: Sequence[str] | Iterable[str] | npt.NDArray[np.generic]) -> UnitBytes:
    """Convert unit ids (a numpy str/bytes/int array or a sequence of str) for hashing."""
    arr = units if isinstance(units, np.ndarray) else as_unit_array(units)
    if arr.ndim != 1:
        raise InputError(f"unit ids must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind in "iu":
        return _from_matrix(_ints_to_matrix(arr)) if arr.size else to_unit_bytes(arr.astype(str))
    if arr.dtype.kind == "O":
        texts = [unit_text(u) for u in arr.tolist()]
        if any(t.endswith("\0") for t in texts):
            return _from_encoded([t.encode("utf-8") for t in texts])
        arr = np.array(texts, dtype=np.str_)
    elif arr.dtype.kind not in "US":
        raise InputError(f"unit ids must be strings or integers, got dtype {arr.dtype}")
    if arr.size == 0:
        return UnitBytes(np.zeros((0, 0), np.uint64), np.zeros(0, np.int64))
    if arr.dtype.kind == "S":
        width = arr.dtype.itemsize
        return _from_matrix(np.ascontiguousarray(arr).view(np.uint8).reshape(-1, width))
    width = arr.dtype.itemsize // 4
    codes = np.ascontiguousarray(arr).view(np.uint32).reshape(-1, width)
    if width and int(codes.max()) < 128:
        text = cast("npt.NDArray[np.str_]", arr)
        lengths = np.strings.str_len(text).astype(np.int64)
        return _from_matrix(codes, lengths)
    encoded: npt.NDArray[Any] = np.char.encode(arr.astype(np.str_), "utf-8")
    return to_unit_bytes(encoded)


def as_unit_array(units: Iterable[Any]) -> npt.NDArray[Any]:
    """Unit ids as a numpy array; an object array when an id ends with NUL, which a numpy
    string array would silently drop."""
    items = list(units)
    if any(type(u) is str and u.endswith("\0") for u in items):
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out
    return np.asarray(items)


def _from_encoded(encoded: list[bytes]) -> UnitBytes:
    """UTF-8 byte strings with their true lengths, so trailing NUL bytes are kept."""
    lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
    width = max(int(lengths.max()), 1)
    mat = np.array(encoded, dtype=f"S{width}").view(np.uint8).reshape(-1, width)
    return _from_matrix(mat, lengths)


def _fmix_array(h: U64Array, tmp: U64Array) -> U64Array:
    """fmix in place on ``h`` (``tmp`` is scratch space of the same shape)."""
    for shift, mult in ((30, _M1), (27, _M2)):
        np.right_shift(h, np.uint64(shift), out=tmp)
        np.bitwise_xor(h, tmp, out=h)
        np.multiply(h, np.uint64(mult), out=h)
    np.right_shift(h, np.uint64(31), out=tmp)
    np.bitwise_xor(h, tmp, out=h)
    return h


def _mix64_batch(seed: int, ub: UnitBytes) -> U64Array:
    h = ub.lengths.astype(np.uint64) * np.uint64(_GOLDEN)
    h ^= np.uint64(seed)
    tmp = np.empty_like(h)
    mixed = np.empty_like(h)
    chunks = (ub.lengths + 7) // 8
    for j in range(ub.words.shape[0]):
        np.bitwise_xor(h, ub.words[j], out=mixed)
        _fmix_array(mixed, tmp)
        active = chunks > j
        if active.all():
            h, mixed = mixed, h
        else:
            np.copyto(h, mixed, where=active)
    return _fmix_array(h, tmp)


def hash_batch(
    version: int, salt: str, units: UnitBytes | Sequence[str] | npt.NDArray[np.generic]
) -> FloatArray:
    """Uniform numbers in [0, 1) for many units; equal to ``hash_unit`` element by element."""
    _check_version(version)
    if version == 2:
        raw = units if not isinstance(units, UnitBytes) else None
        if raw is None:
            raise InputError("hash version 2 takes unit ids, not UnitBytes")
        return _md5_batch(salt, raw)
    if not isinstance(units, UnitBytes):
        return _batched(salt, units)
    seed = seed_of(salt)
    return (_mix64_batch(seed, units) >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def _md5_batch(salt: str, units: Sequence[str] | npt.NDArray[np.generic]) -> FloatArray:
    """Version 2 over many units: hashlib in one tight loop, digests decoded by numpy.

    The first 13 hex digits of the digest are the top 52 bits of its first 8 bytes read
    big-endian, so the digests are joined and shifted rather than parsed as text.
    """
    items = units.tolist() if isinstance(units, np.ndarray) else list(units)
    if not (isinstance(units, np.ndarray) and units.dtype.kind == "U"):
        items = [u if type(u) is str else unit_text(u) for u in items]
    prefix = f"{salt}.".encode()
    md5 = hashlib.md5
    digests = b"".join([md5(prefix + u.encode(), usedforsecurity=False).digest() for u in items])
    words = np.frombuffer(digests, dtype=">u8")[::2].astype(np.uint64)
    return (words >> np.uint64(12)).astype(np.float64) * _MD5_SCALE


def _batched(salt: str, units: Sequence[str] | npt.NDArray[np.generic]) -> FloatArray:
    arr = units if isinstance(units, np.ndarray) else as_unit_array(units)
    out = np.empty(len(arr), np.float64)
    for start in range(0, len(arr), _CHUNK):
        ub = to_unit_bytes(arr[start : start + _CHUNK])
        out[start : start + _CHUNK] = hash_batch(1, salt, ub)
    return out
