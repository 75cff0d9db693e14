"""The engine query of a rank test: per pair of groups, U, the tie term and the placements.

Built on the observations of a quantile-of-units query (every exposed unit's aggregated
value, zeros included; same exposure semantics as the moments query):

1. ``r_counts``: per group and distinct value, the units holding it;
2. ``r_pairs``: every two variants of the same cell (segment, day), in name order (a, b);
3. ``r_values``: per pair and value, the counts of side a and side b;
4. ``r_below``: per pair, running sums over the ordered values: units of a and of b below;
5. per pair: n_a, n_b, U_b = Σ c_b·(below_a + ½c_a), Σ c_b·(below_a + ½c_a)²,
   Σ c_a·(below_b + ½c_b)², Σ (t³ − t) with t = c_a + c_b; and per group n, Σy, Σy².

A pair's rows are its distinct values, never its units; Python gets one row per pair.
"""

from __future__ import annotations

from shipit.metrics.kinds.quantile_sql import QuantileQuery
from shipit.metrics.kinds.query import KindQuery

__all__ = ["PAIR_COLUMNS", "RankQuery"]

PAIR_COLUMNS = ("n_a", "n_b", "u_b", "sq_b", "sq_a", "ties")


class RankQuery(KindQuery):
    """The SQL of one rank-test metric for a request's experiment and breakdown."""

    @property
    def cells(self) -> tuple[str, ...]:
        """The group columns but the variant: a pair's two groups share them."""
        return tuple(k for k in self.keys if k != "variant")

    def _observations(self) -> QuantileQuery:
        units = self.metric.model_copy(
            update={"quantile": 0.5, "quantile_of": "units", "test": "default"}
        )
        return QuantileQuery(self.request, units, self.capabilities)

    def pairs_sql(self) -> str:
        """One row per pair (va < vb in the same cell): the columns of ``PAIR_COLUMNS``."""
        q = self._observations()
        keys = ", ".join(self.keys)
        cells = self.cells
        same = "".join(f" AND a.{c} = b.{c}" for c in cells)
        pcells = "".join(f", p.{c}" for c in cells)
        acells = "".join(f", a.{c}" for c in cells)
        cmatch = "".join(f" AND c.{c} = p.{c}" for c in cells)
        part = ", ".join(["va", "vb", *cells])
        ctes = [
            *q._observations(),
            (
                "r_counts",
                f"SELECT {keys}, x, CAST(COUNT(*) AS DOUBLE) AS cnt FROM q_obs GROUP BY {keys}, x",
            ),
            ("r_groups", f"SELECT DISTINCT {keys} FROM r_counts"),
            (
                "r_pairs",
                f"SELECT a.variant AS va, b.variant AS vb{acells} FROM r_groups a "
                f"JOIN r_groups b ON a.variant < b.variant{same}",
            ),
            (
                "r_values",
                f"SELECT p.va, p.vb{pcells}, c.x, "
                "SUM(CASE WHEN c.variant = p.va THEN c.cnt ELSE 0 END) AS ca, "
                "SUM(CASE WHEN c.variant = p.vb THEN c.cnt ELSE 0 END) AS cb "
                f"FROM r_pairs p JOIN r_counts c ON (c.variant = p.va OR c.variant = p.vb)"
                f"{cmatch} GROUP BY p.va, p.vb{pcells}, c.x",
            ),
            (
                "r_below",
                f"SELECT {part}, ca, cb, "
                f"SUM(ca) OVER (PARTITION BY {part} ORDER BY x "
                "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - ca AS below_a, "
                f"SUM(cb) OVER (PARTITION BY {part} ORDER BY x "
                "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - cb AS below_b "
                "FROM r_values",
            ),
        ]
        select = (
            f"SELECT {part}, SUM(ca) AS n_a, SUM(cb) AS n_b, "
            "SUM(cb * (below_a + 0.5 * ca)) AS u_b, "
            "SUM(cb * (below_a + 0.5 * ca) * (below_a + 0.5 * ca)) AS sq_b, "
            "SUM(ca * (below_b + 0.5 * cb) * (below_b + 0.5 * cb)) AS sq_a, "
            "SUM((ca + cb) * (ca + cb) * (ca + cb) - (ca + cb)) AS ties "
            f"FROM r_below GROUP BY {part} ORDER BY {part}"
        )
        return q._render(ctes, select)

    def groups_sql(self) -> str:
        """Per group: exposed units n, Σy and Σy² (y the unit's value, 0 without events)."""
        q = self._observations()
        keys = ", ".join(self.keys)
        on = " AND ".join(f"g.{k} = o.{k}" for k in self.keys)
        ctes = [
            *q._observations(),
            ("r_groups", f"SELECT {keys}, COUNT(*) AS n FROM q_base GROUP BY {keys}"),
            (
                "r_sums",
                f"SELECT {keys}, SUM(x) AS s, SUM(x * x) AS ss FROM q_obs GROUP BY {keys}",
            ),
        ]
        gkeys = ", ".join(f"g.{k}" for k in self.keys)
        select = (
            f"SELECT {gkeys}, g.n, COALESCE(o.s, 0) AS s, COALESCE(o.ss, 0) AS ss "
            f"FROM r_groups g LEFT JOIN r_sums o ON {on} ORDER BY {gkeys}"
        )
        return q._render(ctes, select)
