"""The engine queries of a quantile metric: the sample quantile and its order-statistic bounds.

Two round trips per breakdown, both on the exposure CTEs the moments query uses (same
phase, first exposure, multi-variant exclusion, segment and day semantics):

1. ``summary``: per group (variant[, segment][, day]) the exposed units n, the observations,
   the linearly interpolated sample quantile q̂ (DuckDB ``QUANTILE_CONT``, Spark's exact
   ``PERCENTILE``), and the unit-level moments of S = #observations ≤ q̂ and N =
   #observations (Σs, Σn, Σs², Σsn, Σn²): F̂(q̂) = ΣS/ΣN is a ratio metric whose
   delta-method variance accounts for observations clustering within units;
2. ``bounds``: per group the sample quantiles at given probabilities (p ± z·σ).

An observation is one event's value (``quantile_of: events``) or one unit's aggregated
value, zeros included (``quantile_of: units``). By day, groups are cumulative to the end
of each UTC day (the units × days plan).
"""

from __future__ import annotations

from collections.abc import Sequence

from shipit.metrics.filters import where_conditions
from shipit.metrics.kinds.query import KindQuery, shadow_ctes
from shipit.metrics.windows import condition
from shipit.spec.metric import MetricDef
from shipit.store.sql import identifier, literal

__all__ = ["SUMMARY_COLUMNS", "QuantileQuery"]

# The summary query's value columns: units, observations, q̂, then Σs, Σn, Σs², Σsn, Σn².
SUMMARY_COLUMNS = ("n", "n_obs", "qhat", "s", "c", "s_s", "s_c", "c_c")


class QuantileQuery(KindQuery):
    """The SQL of one quantile metric for a request's experiment and breakdown."""

    def summary_sql(self) -> str:
        """Per group: n, n_obs, q̂ and the unit moments of S (≤ q̂) and N (observations)."""
        q = float(self.metric.quantile or 0.5)
        keys = self.keys
        cols = ", ".join(keys)
        on = _on("o", "h", keys)
        own = ", ".join(f"o.{k}" for k in keys)
        ctes = [
            *self._observations(),
            (
                "q_hat",
                f"SELECT {cols}, SHIPIT_QUANTILE(x, {q!r}) AS qhat, COUNT(*) AS n_obs "
                f"FROM q_obs GROUP BY {cols}",
            ),
            (
                "q_unit",
                f"SELECT o.unit_id, {own}, CAST(COUNT(*) AS DOUBLE) AS c, "
                "CAST(SUM(CASE WHEN o.x <= h.qhat THEN 1 ELSE 0 END) AS DOUBLE) AS s "
                f"FROM q_obs o JOIN q_hat h ON {on} GROUP BY o.unit_id, {own}",
            ),
            (
                "q_moments",
                f"SELECT {cols}, SUM(s) AS s, SUM(c) AS c, SUM(s * s) AS s_s, "
                f"SUM(s * c) AS s_c, SUM(c * c) AS c_c FROM q_unit GROUP BY {cols}",
            ),
            ("q_groups", f"SELECT {cols}, COUNT(*) AS n FROM q_base GROUP BY {cols}"),
        ]
        select = (
            f"SELECT {', '.join('g.' + k for k in keys)}, g.n, h.n_obs, h.qhat, "
            "m.s, m.c, m.s_s, m.s_c, m.c_c FROM q_groups g "
            f"LEFT JOIN q_hat h ON {_on('g', 'h', keys)} "
            f"LEFT JOIN q_moments m ON {_on('g', 'm', keys)} "
            f"ORDER BY {', '.join('g.' + k for k in keys)}"
        )
        return self._render(ctes, select)

    def bounds_sql(self, probabilities: Sequence[float]) -> str:
        """Per group the sample quantiles at every probability (a list column ``bounds``)."""
        if not probabilities:
            raise ValueError("no probabilities")
        cols = ", ".join(self.keys)
        probs = ", ".join(f"CAST({float(p)!r} AS DOUBLE)" for p in probabilities)
        select = (
            f"SELECT {cols}, SHIPIT_QUANTILE(x, [{probs}]) AS bounds "
            f"FROM q_obs GROUP BY {cols} ORDER BY {cols}"
        )
        return self._render(self._observations(), select)

    # --- pieces -----------------------------------------------------------------------

    def _shadow(self) -> list[tuple[str, str]]:
        """The moments query's CTEs of the same metric read as a mean (units × days by day):
        its exposure CTEs, and ``unit_values`` with every unit's aggregated value ``m0_y``."""
        m = self.metric
        shadow = MetricDef(
            name=m.name,
            event=m.event,
            aggregation=m.aggregation,
            value=m.value,
            window=m.window,
            where=m.where,
        )
        return [
            (n, sql)
            for n, sql in shadow_ctes(self.request, shadow)
            if n not in ("moments", "sanity")
        ]

    def _observations(self) -> list[tuple[str, str]]:
        """CTEs ending in ``q_base`` (exposed units per group) and ``q_obs`` (unit_id, group
        keys, x): one row per observation."""
        ctes = self._shadow()
        names = [name for name, _ in ctes]
        base = "exposed_days" if "exposed_days" in names else "exposed"
        seg = (
            ", COALESCE(CAST(u.segment AS VARCHAR), '(none)') AS segment"
            if "segment" in self.keys
            else ""
        )
        day = ", u.day" if "day" in self.keys else ""
        ctes.append(("q_base", f"SELECT u.unit_id, u.variant{seg}{day} FROM {base} u"))
        if self.metric.quantile_of == "units":
            keys = ", ".join(self.keys)
            ctes.append(("q_obs", f"SELECT unit_id, {keys}, m0_y AS x FROM unit_values"))
            return ctes
        ctes = [c for c in ctes if c[0] != "unit_values"]
        event = self.metric.event
        assert event is not None
        ts = f"ev.{identifier('timestamp')}"
        conds = [
            f"ev.{identifier('unit_id')} = u.unit_id",
            f"ev.{identifier('event')} = {literal(event)}",
            *condition(self.metric.window, ts, "u.first_ts"),
            *where_conditions(self.metric.where),
        ]
        if day:
            conds.append(f"{ts} < u.cutoff")
        value = f"ev.{identifier(self.metric.value)}"
        events = identifier(self.request.table("events"))
        ctes.append(
            (
                "q_obs",
                f"SELECT u.unit_id, u.variant{seg}{day}, CAST({value} AS DOUBLE) AS x "
                f"FROM {base} u JOIN {events} ev ON {' AND '.join(conds)} "
                f"WHERE {value} IS NOT NULL",
            )
        )
        return ctes

    def _render(self, ctes: list[tuple[str, str]], select: str) -> str:
        from shipit.metrics.compile import render

        body = ",\n".join(f"{name} AS ({sql})" for name, sql in ctes)
        return render(f"WITH {body}\n{select}", self.capabilities)


def _on(a: str, b: str, keys: Sequence[str]) -> str:
    return " AND ".join(f"{a}.{k} = {b}.{k}" for k in keys)
