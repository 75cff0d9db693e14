"""Sufficient statistics per group: the only thing that crosses from the engine into stats.

For G groups and a vector z = [1, y, x1..xk] per unit, ``Moments`` keeps the moment matrix
Σzzᵀ of every group as one (G, d, d) array. Its first row is [n, Σy, Σx1, ...], so n and
Σz are read off it; everything in ``shipit.stats`` (means, variances, ratio covariances,
CUPED) is derived from it, vectorized over groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray
from shipit.errors import InputError

__all__ = ["Moments", "rounding_noise"]


@dataclass(frozen=True, eq=False)
class Moments:
    """Moment matrices Σzzᵀ of z = [1, *names] for each labelled group.

    ``matrix[g, 0, 0]`` is the unit count n of group g, ``matrix[g, 0, 1:]`` the sums Σz and
    ``matrix[g, 1:, 1:]`` the cross products. ``a + b`` pools the data of both: groups with
    the same label add up, the others are kept side by side.
    """

    labels: tuple[str, ...]
    names: tuple[str, ...]
    matrix: FloatArray

    def __post_init__(self) -> None:
        m = np.asarray(self.matrix, dtype=np.float64)
        d = len(self.names) + 1
        if m.ndim != 3 or m.shape != (len(self.labels), d, d):
            raise InputError(
                f"moment matrix has shape {m.shape}, expected ({len(self.labels)}, {d}, {d}) "
                f"for {len(self.labels)} groups and columns {list(self.names)}"
            )
        if len(set(self.labels)) != len(self.labels):
            raise InputError(f"duplicate group labels in {list(self.labels)}")
        if len(set(self.names)) != len(self.names):
            raise InputError(f"duplicate column names in {list(self.names)}")
        m.setflags(write=False)
        object.__setattr__(self, "matrix", m)

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        groups: Sequence[str] | npt.ArrayLike,
        columns: Mapping[str, npt.ArrayLike],
        *,
        labels: Sequence[str] | None = None,
    ) -> Moments:
        """Moments from raw per-unit arrays (one label per unit): for tests and small data."""
        raw = np.asarray(groups)
        g = raw.astype(str) if raw.dtype == object else raw
        names = tuple(columns)
        cols = [np.asarray(columns[k], dtype=np.float64) for k in names]
        for k, c in zip(names, cols, strict=True):
            if c.shape != g.shape:
                raise InputError(f"column {k!r} has {c.size} values for {g.size} units")
        distinct, first, inverse = np.unique(g, return_index=True, return_inverse=True)
        seen = list(dict.fromkeys(str(x) for x in distinct[np.argsort(first)]))  # first seen
        order = tuple(labels) if labels is not None else tuple(seen)
        z = np.column_stack([np.ones(g.size), *cols]) if g.size else np.zeros((0, len(names) + 1))
        index = {label: i for i, label in enumerate(order)}
        missing = [x for x in seen if x not in index]
        if missing:
            raise InputError(f"unit group {missing[0]!r} is not among labels {order}")
        codes = np.array([index[str(x)] for x in distinct], dtype=np.int64)[inverse.reshape(-1)]
        return cls(order, names, _moment_matrix(codes, z, len(order)))

    @classmethod
    def from_sums(
        cls,
        labels: Sequence[str],
        names: Sequence[str],
        n: npt.ArrayLike,
        sums: npt.ArrayLike,
        cross: npt.ArrayLike,
    ) -> Moments:
        """Moments from columns of sums, as the SQL engine returns them.

        ``n`` is (G,), ``sums`` is (G, k) with Σz_i and ``cross`` is (G, k, k) with Σz_i z_j.
        """
        k = len(names)
        n_arr = np.asarray(n, dtype=np.float64).reshape(-1)
        s = np.asarray(sums, dtype=np.float64).reshape(len(n_arr), k)
        c = np.asarray(cross, dtype=np.float64).reshape(len(n_arr), k, k)
        m = np.empty((len(n_arr), k + 1, k + 1))
        m[:, 0, 0] = n_arr
        m[:, 0, 1:] = s
        m[:, 1:, 0] = s
        m[:, 1:, 1:] = c
        return cls(tuple(labels), tuple(names), m)

    @classmethod
    def concat(cls, parts: Iterable[Moments]) -> Moments:
        """Stack groups of several Moments with the same columns (labels must be distinct)."""
        items = list(parts)
        if not items:
            raise InputError("cannot concatenate zero Moments")
        names = items[0].names
        for p in items[1:]:
            if p.names != names:
                raise InputError(f"cannot stack columns {list(p.names)} onto {list(names)}")
        labels = tuple(label for p in items for label in p.labels)
        return cls(labels, names, np.concatenate([p.matrix for p in items], axis=0))

    # --- reading ------------------------------------------------------------------------

    @property
    def n(self) -> FloatArray:
        """Units per group, shape (G,)."""
        return self.matrix[:, 0, 0]

    @property
    def sums(self) -> FloatArray:
        """Σz per group, shape (G, k)."""
        return self.matrix[:, 0, 1:]

    @property
    def cross(self) -> FloatArray:
        """Σzzᵀ per group without the constant, shape (G, k, k)."""
        return self.matrix[:, 1:, 1:]

    def __len__(self) -> int:
        return len(self.labels)

    def col(self, name: str) -> int:
        """Position of a column in z (1-based, because z[0] is the constant)."""
        try:
            return self.names.index(name) + 1
        except ValueError:
            raise InputError(f"no column {name!r} in moments of {list(self.names)}") from None

    def sum(self, name: str) -> FloatArray:
        """Σ name per group."""
        return self.matrix[:, 0, self.col(name)]

    def sum_product(self, a: str, b: str) -> FloatArray:
        """Σ a·b per group."""
        return self.matrix[:, self.col(a), self.col(b)]

    def mean(self, name: str) -> FloatArray:
        """Mean of a column per group (NaN where a group is empty)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sum(name) / self.n

    def covariance(self, a: str, b: str) -> FloatArray:
        """Sample covariance (n − 1 denominator) of two columns per group.

        Σab − ΣaΣb/n within the rounding error of the sums (see :func:`rounding_noise`) is
        taken as 0, so constant values (9.99 for every unit) give exactly 0, not 1e-17.
        """
        n = self.n
        with np.errstate(invalid="ignore", divide="ignore"):
            centred = self.sum_product(a, b) - self.sum(a) * self.sum(b) / n
            noise = rounding_noise(n) * np.sqrt(self.sum_product(a, a) * self.sum_product(b, b))
            return np.where(np.abs(centred) <= noise, 0.0, centred) / (n - 1)

    def variance(self, name: str) -> FloatArray:
        """Sample variance (n − 1 denominator) of a column per group, floored at 0."""
        return np.maximum(self.covariance(name, name), 0.0)

    # --- reshaping ----------------------------------------------------------------------

    def __getitem__(self, key: str | Sequence[str]) -> Moments:
        """Groups by label, in the order given: ``m["control"]`` or ``m[["a", "b"]]``."""
        wanted = [key] if isinstance(key, str) else list(key)
        index = {label: i for i, label in enumerate(self.labels)}
        missing = [w for w in wanted if w not in index]
        if missing:
            raise InputError(f"no group {missing[0]!r} among {list(self.labels)}")
        rows = [index[w] for w in wanted]
        return Moments(tuple(wanted), self.names, self.matrix[rows])

    def take(self, rows: npt.ArrayLike) -> Moments:
        """Groups by position (an index array or a boolean mask)."""
        idx = np.arange(len(self.labels))[np.asarray(rows)]
        return Moments(tuple(self.labels[i] for i in idx), self.names, self.matrix[idx])

    def select(self, names: Sequence[str]) -> Moments:
        """Keep only some columns of z (the constant always stays)."""
        cols = [0, *(self.col(nm) for nm in names)]
        return Moments(self.labels, tuple(names), self.matrix[:, cols][:, :, cols])

    def rename(self, labels: Sequence[str]) -> Moments:
        """The same groups under new labels."""
        return Moments(tuple(labels), self.names, self.matrix)

    def pooled(self, label: str = "pooled") -> Moments:
        """All groups pooled into one."""
        return Moments((label,), self.names, self.matrix.sum(axis=0, keepdims=True))

    def __add__(self, other: Moments) -> Moments:
        if not isinstance(other, Moments):
            return NotImplemented
        if other.names != self.names:
            raise InputError(f"cannot add moments of {list(other.names)} to {list(self.names)}")
        labels = list(self.labels) + [x for x in other.labels if x not in set(self.labels)]
        index = {label: i for i, label in enumerate(labels)}
        m = np.zeros((len(labels), *self.matrix.shape[1:]))
        m[[index[x] for x in self.labels]] += self.matrix
        np.add.at(m, [index[x] for x in other.labels], other.matrix)
        return Moments(tuple(labels), self.names, m)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Moments):
            return NotImplemented
        return (
            self.labels == other.labels
            and self.names == other.names
            and bool(np.array_equal(self.matrix, other.matrix))
        )

    def __hash__(self) -> int:
        return hash((self.labels, self.names, self.matrix.tobytes()))

    def allclose(self, other: Moments, *, rtol: float = 1e-9, atol: float = 0.0) -> bool:
        """Same labels and columns, and matrices equal to a tolerance."""
        return (
            self.labels == other.labels
            and self.names == other.names
            and bool(np.allclose(self.matrix, other.matrix, rtol=rtol, atol=atol))
        )


def rounding_noise(n: npt.ArrayLike) -> FloatArray:
    """Relative rounding error of a centred sum Σab − ΣaΣb/n from sums over n units.

    Summed one unit at a time (as a database does), equal values accumulate an error of
    about 0.3·n·ε relative to Σa²; 4·n·ε bounds it. A centred sum below that is noise.
    """
    out: FloatArray = 4.0 * np.finfo(np.float64).eps * np.maximum(np.asarray(n, np.float64), 1.0)
    return out


def _moment_matrix(codes: npt.NDArray[np.int64], z: FloatArray, groups: int) -> FloatArray:
    """Σzzᵀ per group, accumulated about each group's mean to avoid cancellation.

    Raw sums of squares of values far from 0 (e.g. 10⁶ ± 1) lose the variance to rounding
    once summed unit by unit; the centred cross products C do not. The raw matrix is then
    C + c·Sᵀ + S·cᵀ − n·c·cᵀ for the centre c and the stored sums S, which makes the
    variance read back, (Σyy − S²/n)/(n − 1), equal C/(n − 1) up to one rounding.
    """
    d = z.shape[1]
    n = np.bincount(codes, minlength=groups).astype(np.float64)
    sums = np.stack([np.bincount(codes, weights=z[:, j], minlength=groups) for j in range(d)], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(n[:, None] > 0, sums / n[:, None], 0.0)
    zc = z - centre[codes]
    m = np.empty((groups, d, d))
    m[:, 0, :] = sums
    m[:, :, 0] = sums
    for i in range(1, d):
        for j in range(i, d):
            c = np.bincount(codes, weights=zc[:, i] * zc[:, j], minlength=groups)
            raw = c + centre[:, i] * sums[:, j] + centre[:, j] * sums[:, i]
            m[:, i, j] = m[:, j, i] = raw - n * centre[:, i] * centre[:, j]
    return m
