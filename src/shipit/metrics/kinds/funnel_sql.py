"""The engine query of a funnel metric: per group, the units that did each step in order.

One round trip per breakdown, on the exposure CTEs the moments query uses (same phase,
first exposure, multi-variant exclusion, segment and day semantics):

1. ``f_events``: the unit's events of the funnel's steps inside the metric window (and
   its ``where``), by day up to the end of each day;
2. ``f_s1`` .. ``f_sk``: step by step, each candidate start's greedy chain: the earliest
   event of step j strictly after the chain's time at step j − 1. Without ``within_hours``
   the earliest first step is the only candidate needed (the greedy chain from it
   completes whenever any does): a join and a ``MIN`` per step. With it every first-step
   event starts a chain (a window ``MIN`` over the following rows of the candidates and
   the step's events, ordered by time), and a chain stops once it passes ``within_hours``
   after its start;
3. ``f_reach``: per unit the deepest step a chain reached; ``f_groups``: per group the
   exposed units and, for each step, the units that reached it.

Only counts come back: n and reached_1 .. reached_k per group.
"""

from __future__ import annotations

from shipit.metrics.filters import where_conditions
from shipit.metrics.kinds.query import KindQuery, shadow_ctes
from shipit.metrics.windows import condition, offset
from shipit.spec.metric import MetricDef
from shipit.store.sql import identifier, literal

__all__ = ["FunnelQuery"]

_ONCE = ("exposed", "exposed_days", "f_events")


class FunnelQuery(KindQuery):
    """The SQL of one funnel metric for a request's experiment and breakdown."""

    @property
    def steps(self) -> tuple[str, ...]:
        """The funnel's events, in order."""
        return tuple(self.metric.funnel or ())

    def sql(self) -> str:
        """Per group: n, then reached_1 .. reached_k."""
        ctes = self._exposure_ctes()
        base = "exposed_days" if any(n == "exposed_days" for n, _ in ctes) else "exposed"
        day = "day" in self.keys
        part = "unit_id, day" if day else "unit_id"
        ctes.append(self._events(base, day))
        ctes += self._chains(part)
        k = len(self.steps)
        reached = " UNION ALL ".join(
            f"SELECT {part}, {j} AS step FROM f_s{j} WHERE t IS NOT NULL" for j in range(1, k + 1)
        )
        ctes.append(
            ("f_reach", f"SELECT {part}, MAX(step) AS depth FROM ({reached}) r GROUP BY {part}")
        )
        group = ["u.variant"]
        if "segment" in self.keys:
            group.append("COALESCE(CAST(u.segment AS VARCHAR), '(none)')")
        if day:
            group.append("u.day")
        names = ["variant", "segment", "day"]
        select = [
            f"{g} AS {n}"
            for g, n in zip(group, [k_ for k_ in names if k_ in self.keys], strict=True)
        ]
        counts = [
            f"CAST(SUM(CASE WHEN COALESCE(r.depth, 0) >= {j} THEN 1 ELSE 0 END) AS DOUBLE) "
            f"AS reached_{j}"
            for j in range(1, k + 1)
        ]
        on = "r.unit_id = u.unit_id" + (" AND r.day = u.day" if day else "")
        ctes.append(
            (
                "f_groups",
                f"SELECT {', '.join(select)}, CAST(COUNT(*) AS DOUBLE) AS n, {', '.join(counts)} "
                f"FROM {base} u LEFT JOIN f_reach r ON {on} "
                f"GROUP BY {', '.join(str(i + 1) for i in range(len(group)))}",
            )
        )
        order = ", ".join(self.keys)
        return self._render(ctes, f"SELECT * FROM f_groups ORDER BY {order}")

    # --- pieces -----------------------------------------------------------------------

    def _exposure_ctes(self) -> list[tuple[str, str]]:
        """The exposure CTEs of the moments query (``exposed``, by day ``days`` and
        ``exposed_days``), from a shadow metric on the first step."""
        m = self.metric
        shadow = MetricDef(name=m.name, event=self.steps[0], aggregation="any", window=m.window)
        return [
            (name, sql)
            for name, sql in shadow_ctes(self.request, shadow)
            if name not in ("unit_values", "moments", "sanity")
        ]

    def _events(self, base: str, day: bool) -> tuple[str, str]:
        ts = f"ev.{identifier('timestamp')}"
        steps = ", ".join(literal(s) for s in sorted(set(self.steps)))
        conds = [
            f"ev.{identifier('unit_id')} = u.unit_id",
            f"ev.{identifier('event')} IN ({steps})",
            *condition(self.metric.window, ts, "u.first_ts"),
            *where_conditions(self.metric.where),
        ]
        if day:
            conds.append(f"{ts} < u.cutoff")
        events = identifier(self.request.table("events"))
        return (
            "f_events",
            f"SELECT u.unit_id{', u.day' if day else ''}, ev.{identifier('event')} AS step, "
            f"{ts} AS ts FROM {base} u JOIN {events} ev ON {' AND '.join(conds)}",
        )

    def _chains(self, part: str) -> list[tuple[str, str]]:
        """``f_s1`` .. ``f_sk``: per candidate (unit, start) the time ``t`` its chain
        reached step j (NULL: not reached, or past ``within_hours``)."""
        within = self.metric.within_hours
        first = literal(self.steps[0])
        if within is None:
            return self._earliest_chain(part)
        out = [("f_s1", f"SELECT {part}, ts AS start, ts AS t FROM f_events WHERE step = {first}")]
        for j, step in enumerate(self.steps[1:], start=2):
            # At equal times the step's events (kind 0) sort before the candidates (kind 1):
            # the frame from a candidate on holds only events strictly after it.
            rows = (
                f"SELECT {part}, start, t AS ts, 1 AS kind FROM f_s{j - 1} WHERE t IS NOT NULL "
                f"UNION ALL SELECT {part}, CAST(NULL AS TIMESTAMP) AS start, ts, 0 AS kind "
                f"FROM f_events WHERE step = {literal(step)}"
            )
            following = (
                f"MIN(CASE WHEN kind = 0 THEN ts END) OVER (PARTITION BY {part} ORDER BY ts, kind "
                "ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)"
            )
            nxt = f"SELECT {part}, start, kind, {following} AS nxt FROM ({rows}) c"
            t = f"CASE WHEN nxt <= {offset('start', within)} THEN nxt END"
            out.append((f"f_s{j}", f"SELECT {part}, start, {t} AS t FROM ({nxt}) w WHERE kind = 1"))
        return out

    def _earliest_chain(self, part: str) -> list[tuple[str, str]]:
        """Without ``within_hours`` one chain per unit, from its earliest first step: step
        j's time is the earliest event of step j after step j − 1's (a join and a MIN)."""
        on = " AND ".join(f"e.{c.strip()} = p.{c.strip()}" for c in part.split(","))
        keys = ", ".join(f"p.{c.strip()}" for c in part.split(","))
        out = [
            (
                "f_s1",
                f"SELECT {part}, MIN(ts) AS t FROM f_events "
                f"WHERE step = {literal(self.steps[0])} GROUP BY {part}",
            )
        ]
        for j, step in enumerate(self.steps[1:], start=2):
            out.append(
                (
                    f"f_s{j}",
                    f"SELECT {keys}, MIN(e.ts) AS t FROM f_s{j - 1} p JOIN f_events e "
                    f"ON {on} AND e.step = {literal(step)} AND e.ts > p.t GROUP BY {keys}",
                )
            )
        return out

    def _render(self, ctes: list[tuple[str, str]], select: str) -> str:
        from shipit.metrics.compile import render

        # The exposed units and the funnel's events are read more than once: computed once.
        body = ",\n".join(
            f"{name} AS {'MATERIALIZED ' if name in _ONCE else ''}({sql})" for name, sql in ctes
        )
        return render(f"WITH {body}\n{select}", self.capabilities)
