"""The engine query of a Poisson bootstrap: per group and resample, the weighted summary.

Each (unit, resample b) gets a weight w ~ Poisson(1) computed in SQL from a hash of
(unit, b, seed): the MD5 of the unit and seed, mixed with b by integer arithmetic every
engine computes alike, reduced to a uniform u in [0, 1), is turned into a count by the
thresholds of the Poisson(1) CDF. Resamples of a group are then weighted sums over its
units (Σw·y/Σw for a mean or proportion, Σw·num/Σw·den for a ratio), or, for a quantile,
the weighted quantile of the observations (each observation weighted by its unit's w):
the smallest x whose running weight reaches q·Σw. Python gets one number per group and
resample. The same seed gives the same weights, on every run.
"""

from __future__ import annotations

import math

import sqlglot
from sqlglot import exp

from shipit.metrics.kinds.quantile_sql import QuantileQuery
from shipit.metrics.kinds.query import KindQuery, shadow_ctes

__all__ = ["POISSON_THRESHOLDS", "BootstrapQuery"]


def _poisson_thresholds(upto: int = 12) -> tuple[float, ...]:
    """P(W ≤ k) for W ~ Poisson(1), k = 0..upto − 1 (the rest of the mass gets ``upto``)."""
    out, cdf, term = [], 0.0, math.exp(-1.0)
    for k in range(upto):
        cdf += term
        out.append(cdf)
        term /= k + 1
    return tuple(out)


POISSON_THRESHOLDS = _poisson_thresholds()


def poisson_weight(uniform: str) -> str:
    """SQL turning a uniform in [0, 1) into a Poisson(1) count by the CDF's thresholds."""
    whens = " ".join(f"WHEN {uniform} < {t!r} THEN {k}" for k, t in enumerate(POISSON_THRESHOLDS))
    return f"CASE {whens} ELSE {len(POISSON_THRESHOLDS)} END"


class BootstrapQuery(KindQuery):
    """The SQL of one metric's Poisson bootstrap for a request (not by day)."""

    def _weights(self, units: str) -> list[tuple[str, str]]:
        """``b_idx`` (resamples 0..B−1) and ``b_w`` (unit_id, b, w > 0) for ``units``."""
        m = self.metric
        key = f"CAST(unit_id AS VARCHAR) || ':' || '{int(m.seed)}'"
        return [
            (  # inclusive bounds in every dialect (sqlglot rewrites it as Spark's SEQUENCE)
                "b_idx",
                "SELECT CAST(g.b AS BIGINT) AS b FROM "
                f"(SELECT UNNEST(GENERATE_SERIES(0, {int(m.resamples) - 1})) AS b) g",
            ),
            (  # one MD5 per unit, then integer arithmetic per (unit, b)
                "b_keys",
                f"SELECT unit_id, SHIPIT_FROM_HEX(SUBSTR(MD5({key}), 1, 8)) AS k "
                f"FROM (SELECT DISTINCT unit_id FROM {units}) u",
            ),
            (
                "b_uniform",
                f"SELECT unit_id, b, CAST(h AS DOUBLE) / 4294967296.0 AS u FROM ({_mix()}) h",
            ),
            ("b_all", f"SELECT unit_id, b, u, {poisson_weight('u')} AS w FROM b_uniform"),
            (  # w > 0 said of u: a filter Spark pushes down stays small (no CASE inlined)
                "b_w",
                "SELECT unit_id, b, CAST(w AS DOUBLE) AS w FROM b_all "
                f"WHERE u >= {POISSON_THRESHOLDS[0]!r}",
            ),
        ]

    def sql(self) -> str:
        """Per group and resample b: ``est`` (NaN-free where the resample has units)."""
        if self.metric.base_kind == "quantile":
            return self._quantile_sql()
        return self._moment_sql()

    def _moment_sql(self) -> str:
        from shipit.metrics.compile import render

        m = self.metric.model_copy(update={"interval": "default", "covariates": ()})
        ctes = shadow_ctes(self.request, m)
        moments = dict(ctes)["moments"]
        source = "winsorized" if "winsorized" in dict(ctes) else "unit_values"
        columns = _summed_columns(moments)
        kept = [(n, s) for n, s in ctes if n not in ("moments", "sanity")]
        keys = ", ".join(self.keys)
        okeys = ", ".join(f"v.{k}" for k in self.keys)
        if m.base_kind == "ratio":
            num, den = columns["m0__num"], columns["m0__den"]
        else:
            num, den = columns["m0__y"], "1"
        kept += self._weights(source)
        kept += _fixed_point(source, num, den)
        ws = "CAST(w.w AS BIGINT)"
        den_sum = f"SUM({ws})" if den == "1" else f"SUM({ws} * v.q_den)"
        kept.append(
            (  # integer sums: exact, so the same in any order, on any engine
                "b_sums",
                f"SELECT {okeys}, w.b, SUM({ws} * v.q_num) AS num, {den_sum} AS den "
                "FROM b_fixed v JOIN b_w w ON w.unit_id = v.unit_id "
                f"GROUP BY {okeys}, w.b",
            )
        )
        f_den = "1.0" if den == "1" else "s.f_den"
        select = (
            f"SELECT {keys}, b, CASE WHEN den <> 0 THEN (CAST(num AS DOUBLE) / s.f_num) / "
            f"(CAST(den AS DOUBLE) / {f_den}) END AS est FROM b_sums CROSS JOIN b_scale s "
            f"ORDER BY {keys}, b"
        )
        body = ",\n".join(f"{name} AS ({sql})" for name, sql in kept)
        return render(f"WITH {body}\n{select}", self.capabilities)

    def _quantile_sql(self) -> str:
        q = QuantileQuery(self.request, self.metric, self.capabilities)
        keys = ", ".join(self.keys)
        okeys = ", ".join(f"o.{k}" for k in self.keys)
        level = float(self.metric.quantile or 0.5)
        ctes = [*q._observations(), *self._weights("q_base")]
        ctes += [
            (
                "b_obs",
                f"SELECT {okeys}, w.b, o.x, w.w FROM q_obs o JOIN b_w w ON w.unit_id = o.unit_id",
            ),
            (
                "b_run",
                f"SELECT {keys}, b, x, SUM(w) OVER (PARTITION BY {keys}, b ORDER BY x "
                "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cw, "
                f"SUM(w) OVER (PARTITION BY {keys}, b) AS tw FROM b_obs",
            ),
        ]
        select = (
            f"SELECT {keys}, b, MIN(CASE WHEN cw >= {level!r} * tw THEN x END) AS est "
            f"FROM b_run GROUP BY {keys}, b ORDER BY {keys}, b"
        )
        return q._render(ctes, select)


_GOLDEN = 0x9E3779B9  # 2³² / φ: consecutive resamples start far apart
_M32 = 4294967296


def _times(x: str, c: int) -> str:
    """SQL of x·c mod 2³² for x < 2³², in halves of c so that no product passes 2⁶³."""
    lo, hi = c & 0xFFFF, c >> 16
    return f"({x} * {lo} + ({x} * {hi}) % 65536 * 65536) % {_M32}"


def _mix() -> str:
    """SQL of h(unit, b): the unit's key plus (b + 1) golden steps, through MurmurHash3's
    32-bit finalizer (xor-shifts and odd multipliers, a bijection with full avalanche).
    Only +, ·, mod, xor and shifts of non-negative integers below 2⁶³: every engine gets
    the same bits, so the same seed gives the same weights on DuckDB and Spark."""
    steps = [
        "XOR(h, h >> 16)",
        _times("h", 0x85EBCA6B),
        "XOR(h, h >> 13)",
        _times("h", 0xC2B2AE35),
        "XOR(h, h >> 16)",
    ]
    sql = (
        f"SELECT k.unit_id, i.b, (k.k + (i.b + 1) * {_GOLDEN}) % {_M32} AS h "
        "FROM b_keys k CROSS JOIN b_idx i"
    )
    for step in steps:
        sql = f"SELECT unit_id, b, {step} AS h FROM ({sql}) h"
    return sql


def _fixed_point(source: str, num: str, den: str) -> list[tuple[str, str]]:
    """``b_scale`` (powers of two f_num, f_den) and ``b_fixed`` (unit_id, keys, q_num,
    q_den): each unit's value times f, rounded to an integer. f is the largest power of two
    keeping 12 (the largest weight) × units × max|value| × f below 2⁶¹, so every weighted sum
    is an exact integer in a BIGINT (no order of summation changes it), and the rounding
    costs at most units × 2⁻⁵⁸ of the largest value."""

    def factor(column: str) -> str:
        m = f"MAX(ABS(CAST({column} AS DOUBLE)))"
        k = f"LEAST(1000, FLOOR(61 - LOG2({m} * 12 * COUNT(*))))"
        return f"CASE WHEN {m} > 0 THEN POWER(2.0, {k}) ELSE 1.0 END"

    parts = [f"{factor(num)} AS f_num"]
    cols = [f"CAST(ROUND(v.{num} * s.f_num) AS BIGINT) AS q_num"]
    if den != "1":
        parts.append(f"{factor(den)} AS f_den")
        cols.append(f"CAST(ROUND(v.{den} * s.f_den) AS BIGINT) AS q_den")
    return [
        ("b_scale", f"SELECT {', '.join(parts)} FROM {source}"),
        ("b_fixed", f"SELECT v.*, {', '.join(cols)} FROM {source} v CROSS JOIN b_scale s"),
    ]


def _summed_columns(moments_sql: str) -> dict[str, str]:
    """Result alias → the unit_values column it sums, in a moments CTE (``SUM(c) AS a``)."""
    tree = sqlglot.parse_one(moments_sql, read="duckdb")
    out: dict[str, str] = {}
    for alias in tree.find_all(exp.Alias):
        if isinstance(alias.this, exp.Sum) and isinstance(alias.this.this, exp.Column):
            out[alias.alias] = alias.this.this.name
    return out
