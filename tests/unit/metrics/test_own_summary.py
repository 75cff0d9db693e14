"""A kind with a summary of its own goes through compute_moments without any other change.

The toy kind here (standing in for "proportion") counts each group's matching events with
a query of its own, built on the shared exposure CTEs; the moment metrics beside it are
unchanged and the moments query no longer computes its values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from shipit.metrics.compile import compile_moments, render
from shipit.metrics.exposures import exposure_ctes
from shipit.metrics.kinds import Comparison, SummarySource, UnitValue
from shipit.metrics.kinds import base as kinds_base
from shipit.metrics.request import MomentsRequest
from shipit.metrics.run import compute_moments
from shipit.metrics.summary import Summary
from shipit.spec.metric import MetricDef
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load
from shipit.store.sql import identifier, literal

REVENUE = MetricDef(name="revenue", event="purchase", aggregation="sum")
CONVERTED = MetricDef(name="converted", event="purchase", aggregation="any")
VARIANTS = ["control", "treatment"]


@dataclass(frozen=True)
class EventCounts:
    """Units and matching events per group."""

    n: np.ndarray
    events: np.ndarray

    def __len__(self) -> int:
        return len(self.n)


class EventCountKind:
    """Events per group, from its own query."""

    name = "proportion"
    supports_cuped = False
    supports_posterior = False

    def unit_values(self, metric: MetricDef) -> tuple[tuple[str, UnitValue], ...]:
        return ()

    def value_columns(self, metric: MetricDef) -> tuple[str, ...]:
        return ()

    def summarize(self, source: SummarySource, metrics: Sequence[MetricDef]) -> dict[str, Summary]:
        out: dict[str, Summary] = {}
        request = source.request
        for m in metrics:
            assert m.event is not None
            ctes = exposure_ctes(request, source.engine.capabilities)
            body = ", ".join(f"{name} AS ({sql})" for name, sql in ctes)
            events = identifier(request.table("events"))
            sql = (
                f"WITH {body} SELECT u.variant, COUNT(DISTINCT u.unit_id) AS n, "
                f"COUNT(ev.{identifier('event')}) AS k FROM exposed u LEFT JOIN {events} ev "
                f"ON ev.{identifier('unit_id')} = u.unit_id "
                f"AND ev.{identifier('event')} = {literal(m.event)} GROUP BY u.variant"
            )
            got = source.query(render(sql, source.engine.capabilities))
            row = {v: i for i, v in enumerate(got["variant"])}
            at = [row.get(g.variant) for g in source.groups]
            out[m.name] = EventCounts(
                np.array([got["n"][i] if i is not None else 0 for i in at], dtype=float),
                np.array([got["k"][i] if i is not None else 0 for i in at], dtype=float),
            )
        return out

    def pair(
        self, summary: Summary, control: Sequence[int], variant: Sequence[int]
    ) -> tuple[Summary, Summary]:
        raise NotImplementedError

    def group_stats(self, summary: Summary) -> object:
        raise NotImplementedError

    def compare(
        self, control: Summary, variant: Summary, *, alpha: float, alternative: str, cuped: bool
    ) -> Comparison:
        raise NotImplementedError


@pytest.fixture
def engine() -> DuckDBEngine:
    rng = np.random.default_rng(5)
    n = 300
    units = [f"u{i}" for i in range(n)]
    t0 = pd.Timestamp("2024-06-01")
    exposures = pd.DataFrame(
        {
            "experiment": "toy",
            "phase": 1,
            "unit_id": units,
            "variant": rng.choice(VARIANTS, n),
            "timestamp": t0 + pd.to_timedelta(rng.integers(0, 3600, n), "s"),
        }
    )
    k = rng.poisson(1.5, n)
    who = np.repeat(np.arange(n), k)
    events = pd.DataFrame(
        {
            "unit_id": np.asarray(units)[who],
            "event": rng.choice(["purchase", "view"], who.size),
            "timestamp": t0 + pd.Timedelta(hours=2),
            "value": rng.gamma(2.0, 3.0, who.size),
        }
    )
    e = DuckDBEngine(":memory:")
    load(e, "exposures", exposures)
    load(e, "events", events)
    return e


def test_a_kind_with_its_own_query_sits_beside_the_moment_kinds(
    engine: DuckDBEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = compute_moments(engine, "toy", 1, VARIANTS, [REVENUE, CONVERTED])
    monkeypatch.setitem(kinds_base._KINDS, "proportion", EventCountKind())
    after = compute_moments(engine, "toy", 1, VARIANTS, [CONVERTED, REVENUE])
    assert list(after.metrics) == ["converted", "revenue"]
    # Equal to rounding (DuckDB sums in parallel, in no fixed order).
    assert after.moments("revenue").allclose(before.moments("revenue"), rtol=1e-12)
    counts = after["converted"]
    assert isinstance(counts, EventCounts)
    want = engine.query(
        "SELECT x.variant, COUNT(e.event) AS k FROM exposures x LEFT JOIN events e "
        "ON e.unit_id = x.unit_id AND e.event = 'purchase' GROUP BY x.variant ORDER BY 1"
    ).to_pydict()
    assert counts.events.tolist() == [float(k) for k in want["k"]]
    np.testing.assert_array_equal(counts.n, before.moments("converted").n)
    # The moments query computes only the moment metric's values now.
    plan = compile_moments(MomentsRequest("toy", 1, VARIANTS, [CONVERTED, REVENUE]))
    assert [c.metric for c in plan.columns] == ["revenue"]
    assert "m0_y" not in plan.sql


@pytest.mark.parametrize("by", [None, "day"])
def test_only_kinds_with_their_own_query_still_give_the_groups(
    engine: DuckDBEngine, monkeypatch: pytest.MonkeyPatch, by: str | None
) -> None:
    monkeypatch.setitem(kinds_base._KINDS, "proportion", EventCountKind())
    got = compute_moments(engine, "toy", 1, VARIANTS, [CONVERTED], by=by)
    counts = got["converted"]
    assert isinstance(counts, EventCounts)
    exposed = engine.query(
        "SELECT variant, COUNT(*) AS n FROM exposures GROUP BY 1 ORDER BY 1"
    ).to_pydict()
    if by is None:
        assert counts.n.tolist() == [float(n) for n in exposed["n"]]
    else:
        assert {g.day for g in got.groups} == {"2024-06-01"}
