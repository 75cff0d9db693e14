"""The engine side of a shadow analysis: summaries of the ``shadow_predictions`` table.

Each query reads one experiment's logged pairs (production and candidate output for one
request) and returns a few numbers, never rows:

- ``moments``: for every per-request value (agreement 0/1, the score difference, each
  model's offline metric against its label and their paired difference) the unit-level
  sums S_i = Σ value and N_i = #requests of unit i, as n, ΣS, ΣN, ΣS², ΣSN, ΣN²: the
  value's mean over requests is the ratio ΣS/ΣN, whose delta-method variance counts the
  requests of one unit as correlated;
- ``distribution``: quantiles, extremes and a histogram of the score difference (or of
  the rankings' overlap);
- ``latency``: each model's latency quantiles q̂ with the unit moments of S = #requests
  ≤ q̂ (the quantile kind's interval), then the quantiles at the bounds' probabilities.

Labels arrive later as events: the last ``label.event`` of each request (tied by its
``request_property``) gives the value (or text property) the models are judged against.
The SQL is DuckDB's, transpiled by sqlglot for other engines: scores and labels run on
PostgreSQL too (``tests/engines/test_shadow_engines.py``); rankings use DuckDB's list and
JSON functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shipit.errors import DataError
from shipit.store.engine import Engine
from shipit.store.sql import identifier, literal, transpile
from shipit.store.tables import SHADOW

__all__ = ["MOMENT_COLUMNS", "ShadowQuery", "ValueMoments"]

# Per value: units with a request, ΣS, ΣN, ΣS², ΣSN, ΣN².
MOMENT_COLUMNS = ("n", "s", "c", "s_s", "s_c", "c_c")
# Probabilities are clipped to [EPS, 1 − EPS] for the log-loss.
LOG_LOSS_EPS = 1e-15


@dataclass(frozen=True)
class ValueMoments:
    """Unit-level moments of one per-request value (see the module docstring)."""

    name: str
    n: float
    s: float
    c: float
    s_s: float
    s_c: float
    c_c: float


@dataclass(frozen=True)
class ShadowQuery:
    """The SQL of one shadow experiment's summaries (its spec's rules, its phase)."""

    experiment: str
    output: str = "score"
    tolerance: float = 0.0
    threshold: float = 0.5
    top_k: int = 10
    min_overlap: float = 1.0
    label_event: str | None = None
    label_property: str | None = None
    request_property: str = "request_id"
    metrics: tuple[str, ...] = ()
    phase: int | None = None
    since: datetime | None = None
    table: str = SHADOW.name
    events: str = "events"
    dialect: str = field(default="duckdb")

    # --- the per-request values ----------------------------------------------------------

    def _ranked(self, column: str) -> str:
        k = int(self.top_k)
        return f"list_distinct(list_slice(CAST(CAST({column} AS JSON) AS VARCHAR[]), 1, {k}))"

    def _agree(self) -> str:
        if self.output == "score":
            both = "p IS NOT NULL AND c IS NOT NULL"
            rule = f"ABS(c - p) <= {float(self.tolerance)!r}"
        elif self.output == "label":
            both = "pl IS NOT NULL AND cl IS NOT NULL"
            rule = "pl = cl"
        else:
            both = "pl IS NOT NULL AND cl IS NOT NULL"
            rule = f"overlap >= {float(self.min_overlap)!r} - 1e-12"
        return f"CASE WHEN {both} THEN CASE WHEN {rule} THEN 1.0 ELSE 0.0 END END"

    def difference(self) -> str | None:
        """The per-request difference whose distribution is reported (None for labels)."""
        if self.output == "score":
            return "c - p"
        if self.output == "ranking":
            return "overlap"
        return None

    def _metric(self, metric: str, score: str, label: str) -> str:
        """One model's offline metric for a request (NULL without a label)."""
        if metric == "accuracy" and self.output == "score":
            t = float(self.threshold)
            return (
                f"CASE WHEN y IS NOT NULL AND {score} IS NOT NULL THEN "
                f"CASE WHEN ({score} >= {t!r}) = (y >= 0.5) THEN 1.0 ELSE 0.0 END END"
            )
        if metric == "accuracy":
            return (
                f"CASE WHEN y IS NOT NULL AND {label} IS NOT NULL THEN "
                f"CASE WHEN {label} = y THEN 1.0 ELSE 0.0 END END"
            )
        if metric == "mse":
            return f"({score} - y) * ({score} - y)"
        if metric == "log_loss":
            e = LOG_LOSS_EPS
            # GREATEST and LEAST skip NULLs: a missing score must stay missing.
            q = f"LEAST(GREATEST({score}, {e!r}), {1 - e!r})"
            return f"CASE WHEN {score} IS NOT NULL THEN -(y * LN({q}) + (1 - y) * LN(1 - {q})) END"
        if metric == "hit_rate":
            return (
                f"CASE WHEN y IS NOT NULL AND {label} IS NOT NULL THEN "
                f"CASE WHEN list_contains({self._ranked(label)}, y) THEN 1.0 ELSE 0.0 END END"
            )
        raise DataError(f"shadow: unknown offline metric {metric!r}")

    def values(self) -> dict[str, str]:
        """Name → SQL of every per-request value summarized by ``moments``."""
        out = {"agree": self._agree()}
        diff = self.difference()
        if diff is not None:
            out["difference"] = diff
        for m in self.metrics:
            prod, cand = self._metric(m, "p", "pl"), self._metric(m, "c", "cl")
            out[f"production_{m}"] = prod
            out[f"candidate_{m}"] = cand
            out[f"paired_{m}"] = f"({cand}) - ({prod})"
        return out

    # --- CTEs ----------------------------------------------------------------------------

    def _where(self) -> str:
        conds = [f"experiment = {literal(self.experiment)}"]
        if self.phase is not None:
            conds.append(f"phase = {int(self.phase)}")
        if self.since is not None:
            stamp = self.since.replace(tzinfo=None).isoformat(sep=" ")
            conds.append(f"{identifier('timestamp')} >= TIMESTAMP {literal(stamp)}")
        return " AND ".join(conds)

    def _ctes(self) -> str:
        base = (
            "SELECT unit_id, request_id, production_score AS p, candidate_score AS c, "
            "production_label AS pl, candidate_label AS cl, production_ms AS pm, "
            f"candidate_ms AS cm FROM {identifier(self.table)} WHERE {self._where()}"
        )
        ctes = [f"base AS ({base})"]
        if self.label_event is not None and self.metrics:
            kind = "DOUBLE" if self.output == "score" else "VARCHAR"
            y = (
                "value"
                if self.label_property is None
                else f"CAST({identifier(self.label_property)} AS {kind})"
            )
            rp = identifier(self.request_property)
            ts = identifier("timestamp")
            # The last label of each request (ties: the largest label), in portable SQL.
            ranked = (
                f"SELECT CAST({rp} AS VARCHAR) AS request_id, {y} AS y, ROW_NUMBER() OVER "
                f"(PARTITION BY CAST({rp} AS VARCHAR) ORDER BY {ts} DESC, {y} DESC) AS rn "
                f"FROM {identifier(self.events)} "
                f"WHERE event = {literal(self.label_event)} AND {rp} IS NOT NULL"
            )
            ctes.append(f"labels AS (SELECT request_id, y FROM ({ranked}) ranked WHERE rn = 1)")
            joined = "SELECT b.*, l.y FROM base b LEFT JOIN labels l USING (request_id)"
        else:
            joined = "SELECT b.*, CAST(NULL AS DOUBLE) AS y FROM base b"
        if self.output == "ranking":
            a, b = self._ranked("pl"), self._ranked("cl")
            overlap = (
                f"CASE WHEN pl IS NOT NULL AND cl IS NOT NULL THEN "
                f"CASE WHEN GREATEST(len({a}), len({b})) = 0 THEN 1.0 ELSE "
                f"CAST(len(list_intersect({a}, {b})) AS DOUBLE) / GREATEST(len({a}), len({b})) "
                "END END"
            )
            joined = f"SELECT j.*, {overlap} AS overlap FROM ({joined}) j"
        ctes.append(f"joined AS ({joined})")
        return "WITH " + ", ".join(ctes)

    def _run(self, engine: Engine, sql: str) -> list[dict[str, Any]]:
        text = transpile(sql, engine.dialect) if engine.dialect != "duckdb" else sql
        return list(engine.query(text).to_pylist())

    # --- queries -------------------------------------------------------------------------

    def counts_sql(self) -> str:
        """Requests logged, with both outputs, labelled; units."""
        both = "pl IS NOT NULL AND cl IS NOT NULL"
        if self.output == "score":
            both = "p IS NOT NULL AND c IS NOT NULL"
        return (
            f"{self._ctes()} SELECT COUNT(*) AS requests, COUNT(DISTINCT unit_id) AS units, "
            f"SUM(CASE WHEN {both} THEN 1 ELSE 0 END) AS paired, "
            "SUM(CASE WHEN y IS NOT NULL THEN 1 ELSE 0 END) AS labelled FROM joined"
        )

    def moments_sql(self) -> str:
        """One row: the unit moments of every value (columns ``<value>__<moment>``)."""
        values = self.values()
        names = list(values)
        per_request = ", ".join(f"{sql} AS v{i}" for i, sql in enumerate(values.values()))
        per_unit = ", ".join(f"SUM(v{i}) AS s{i}, COUNT(v{i}) AS c{i}" for i in range(len(names)))
        parts = []
        for i, name in enumerate(names):
            s, c = f"CAST(s{i} AS DOUBLE)", f"CAST(c{i} AS DOUBLE)"
            parts += [
                f"SUM(CASE WHEN c{i} > 0 THEN 1 ELSE 0 END) AS {name}__n",
                f"SUM({s}) AS {name}__s",
                f"SUM({c}) AS {name}__c",
                f"SUM({s} * {s}) AS {name}__s_s",
                f"SUM({s} * {c}) AS {name}__s_c",
                f"SUM({c} * {c}) AS {name}__c_c",
            ]
        return (
            f"{self._ctes()}, req AS (SELECT unit_id, {per_request} FROM joined), "
            f"units AS (SELECT unit_id, {per_unit} FROM req GROUP BY unit_id) "
            f"SELECT {', '.join(parts)} FROM units"
        )

    def moments(self, engine: Engine) -> list[ValueMoments]:
        """The unit moments of every per-request value, in ``values()`` order."""
        row = self._run(engine, self.moments_sql())[0]
        return [
            ValueMoments(name, *(float(row[f"{name}__{m}"] or 0.0) for m in MOMENT_COLUMNS))
            for name in self.values()
        ]

    def counts(self, engine: Engine) -> dict[str, int]:
        """Requests, units, requests with both outputs and with a label."""
        row = self._run(engine, self.counts_sql())[0]
        return {k: int(v or 0) for k, v in row.items()}

    def distribution(
        self, engine: Engine, quantiles: Sequence[float], bins: int
    ) -> dict[str, Any] | None:
        """Quantiles, extremes and a histogram (``edges``, ``counts``) of the difference."""
        diff = self.difference()
        if diff is None:
            return None
        probs = ", ".join(f"{float(q)!r}" for q in quantiles)
        head = self._run(
            engine,
            f"{self._ctes()}, d AS (SELECT {diff} AS d FROM joined) "
            f"SELECT COUNT(d) AS n, MIN(d) AS lo, MAX(d) AS hi, "
            f"QUANTILE_CONT(d, [{probs}]) AS q FROM d",
        )[0]
        n = int(head["n"] or 0)
        if n == 0:
            return {"n": 0, "min": None, "max": None, "quantiles": [], "edges": [], "counts": []}
        lo, hi = float(head["lo"]), float(head["hi"])
        k = int(bins) if hi > lo else 1
        width = (hi - lo) / k if hi > lo else 1.0
        counts_rows = self._run(
            engine,
            f"{self._ctes()}, d AS (SELECT {diff} AS d FROM joined WHERE {diff} IS NOT NULL) "
            f"SELECT LEAST(CAST(FLOOR((d - {lo!r}) / {width!r}) AS BIGINT), {k - 1}) AS b, "
            "COUNT(*) AS n FROM d GROUP BY 1 ORDER BY 1",
        )
        counts = [0] * k
        for r in counts_rows:
            counts[max(0, int(r["b"]))] += int(r["n"])
        edges = [lo + i * width for i in range(k)] + [hi if hi > lo else lo]
        return {
            "n": n,
            "min": lo,
            "max": hi,
            "quantiles": [float(x) for x in head["q"]],
            "edges": edges,
            "counts": counts,
        }

    def latency_sql(self, quantiles: Sequence[float]) -> str:
        """Per model and quantile: q̂, the observations and the unit moments of S, N."""
        parts, units, moments = [], [], []
        for m in ("pm", "cm"):
            for i, q in enumerate(quantiles):
                parts.append(f"QUANTILE_CONT({m}, {float(q)!r}) AS {m}{i}")
        for m in ("pm", "cm"):
            units.append(f"CAST(COUNT({m}) AS DOUBLE) AS {m}_c")
            moments += [
                f"SUM(CASE WHEN {m}_c > 0 THEN 1 ELSE 0 END) AS {m}__n",
                f"SUM({m}_c) AS {m}__c",
                f"SUM({m}_c * {m}_c) AS {m}__c_c",
            ]
            for i in range(len(quantiles)):
                units.append(
                    f"CAST(SUM(CASE WHEN {m} <= h.{m}{i} THEN 1 ELSE 0 END) AS DOUBLE) AS {m}_s{i}"
                )
                moments += [
                    f"SUM({m}_s{i}) AS {m}{i}__s",
                    f"SUM({m}_s{i} * {m}_s{i}) AS {m}{i}__s_s",
                    f"SUM({m}_s{i} * {m}_c) AS {m}{i}__s_c",
                ]
        return (
            f"{self._ctes()}, hat AS (SELECT {', '.join(parts)} FROM joined), "
            f"units AS (SELECT unit_id, {', '.join(units)} FROM joined, hat h GROUP BY unit_id) "
            f"SELECT {', '.join(moments)}, (SELECT to_json(hat) FROM hat) AS qhat FROM units"
        )

    def latency(self, engine: Engine, quantiles: Sequence[float]) -> dict[str, Any]:
        """The latency summaries of both models (see ``latency_sql``) as plain numbers."""
        import json

        row = self._run(engine, self.latency_sql(quantiles))[0]
        raw = row.pop("qhat", None)
        qhat = json.loads(raw) if isinstance(raw, str | bytes) else dict(raw or {})
        return {"qhat": qhat, **{k: float(v or 0.0) for k, v in row.items()}}

    def quantiles_at(
        self, engine: Engine, column: str, probabilities: Sequence[float]
    ) -> list[Any]:
        """The sample quantiles of ``pm`` or ``cm`` at each probability."""
        probs = ", ".join(f"CAST({float(p)!r} AS DOUBLE)" for p in probabilities)
        sql = f"{self._ctes()} SELECT QUANTILE_CONT({column}, [{probs}]) AS q FROM joined"
        row = self._run(engine, sql)
        values = row[0]["q"]
        return list(values) if values is not None else [None] * len(probabilities)

    def disagreements_sql(self, limit: int = 10) -> str:
        """The most frequent (production, candidate) label pairs that differ."""
        return (
            f"{self._ctes()} SELECT pl AS production, cl AS candidate, COUNT(*) AS requests "
            "FROM joined WHERE pl IS NOT NULL AND cl IS NOT NULL AND pl <> cl "
            f"GROUP BY pl, cl ORDER BY requests DESC, pl, cl LIMIT {int(limit)}"
        )

    def disagreements(self, engine: Engine, limit: int = 10) -> list[dict[str, Any]]:
        """See ``disagreements_sql``."""
        return self._run(engine, self.disagreements_sql(limit))
