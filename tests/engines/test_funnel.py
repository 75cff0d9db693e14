"""Funnel metrics equal a brute-force pandas count on the raw rows: every step in order
(each strictly after the previous one), inside the window, within ``within_hours``."""

from __future__ import annotations

import itertools
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from shipit.errors import SpecError
from shipit.metrics.kinds.funnel import FunnelSummary
from shipit.metrics.run import compute_moments
from shipit.metrics.summary import GroupKey
from shipit.spec.metric import MetricDef
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

from .conftest import PHASE_START, Dataset, make_dataset
from .test_metric_language import _mask, with_properties

VARIANTS = ["control", "treatment"]


def exposed_units(data: Dataset, phase_start: datetime | None) -> pd.DataFrame:
    """unit_id, first_ts, variant, country of the units the analysis counts, in pandas."""
    ex = data.exposures[
        (data.exposures["experiment"] == "checkout") & (data.exposures["phase"] == 1)
    ]
    if phase_start is not None:
        ex = ex[ex["timestamp"] >= pd.Timestamp(phase_start)]
    ex = ex.sort_values("timestamp")
    g = ex.groupby("unit_id")
    units = pd.DataFrame(
        {
            "first_ts": g["timestamp"].min(),
            "variant": g["variant"].first(),
            "k": g["variant"].nunique(),
            "country": g["country"].first(),
        }
    )
    units["country"] = g.apply(lambda d: d["country"].iloc[0], include_groups=False)
    units["country"] = units["country"].where(units["country"].notna(), "(none)")
    return units[units["k"] == 1].reset_index()


def did_funnel(times: list[list[pd.Timestamp]], within: float | None) -> list[bool]:
    """For each depth j, whether some t1 < t2 < .. < tj exists (tj - t1 <= within)."""
    out = []
    for j in range(1, len(times) + 1):
        ok = any(
            all(a < b for a, b in itertools.pairwise(chain))
            and (within is None or chain[-1] - chain[0] <= pd.Timedelta(hours=within))
            for chain in itertools.product(*times[:j])
        )
        out.append(ok)
    return out


def oracle(
    data: Dataset,
    metric: MetricDef,
    *,
    by: str | None = None,
    phase_start: datetime | None = PHASE_START,
) -> dict[GroupKey, tuple[float, list[float]]]:
    """Per group: exposed units and the units reaching each step, by brute force."""
    units = exposed_units(data, phase_start)
    ev = data.events[data.events["event"].isin(metric.funnel or ())]
    for f in metric.where:
        ev = ev[_mask(ev, f)]
    ev = ev.merge(units[["unit_id", "first_ts"]], on="unit_id")
    w = metric.window
    keep = ev["timestamp"] >= ev["first_ts"] + pd.to_timedelta(w.start_hours, "h")
    if w.end_hours is not None:
        keep &= ev["timestamp"] < ev["first_ts"] + pd.to_timedelta(w.end_hours, "h")
    ev = ev[keep]
    by_unit = dict(list(ev.groupby("unit_id")))
    if by == "day":
        later = data.events[data.events["timestamp"] >= units["first_ts"].min()]["timestamp"]
        days = sorted(set(units["first_ts"].dt.normalize()) | set(later.dt.normalize()))
    else:
        days = [None]
    out: dict[GroupKey, tuple[float, list[float]]] = {}
    for day in days:
        for _, u in units.iterrows():
            if day is not None and u["first_ts"].normalize() > day:
                continue
            d = by_unit.get(u["unit_id"], ev.iloc[:0])
            if day is not None:
                d = d[d["timestamp"] < day + pd.Timedelta(days=1)]
            times = [list(d[d["event"] == s]["timestamp"]) for s in metric.funnel or ()]
            reach = did_funnel(times, metric.within_hours)
            key = GroupKey(
                u["variant"],
                u["country"] if by == "country" else None,
                day.date().isoformat() if day is not None else None,
            )
            n, counts = out.get(key, (0.0, [0.0] * len(times)))
            out[key] = (n + 1, [c + r for c, r in zip(counts, reach, strict=True)])
    return out


def assert_funnel(got: FunnelSummary, want: dict[GroupKey, tuple[float, list[float]]]) -> None:
    have = {g: (n, list(r)) for g, n, r in zip(got.groups, got.n, got.reached, strict=True) if n}
    assert set(have) == set(want)
    for g, (n, reached) in want.items():
        assert have[g][0] == n, g
        np.testing.assert_allclose(have[g][1], reached, rtol=1e-9, atol=1e-9, err_msg=str(g))


FUNNELS = [
    MetricDef(name="view_buy", funnel=["view", "purchase"]),
    MetricDef(name="three", funnel=["view", "purchase", "signup"], window={"end_hours": 96}),
    MetricDef(name="three_24h", funnel=["view", "purchase", "signup"], within_hours=24),
    MetricDef(name="twice", funnel=["view", "view", "purchase"], within_hours=6),
    MetricDef(
        name="fr_funnel",
        funnel=["purchase", "view"],
        where=[{"property": "country", "op": "in", "value": ["fr", "de"]}],
        window={"start_hours": 2},
    ),
]


@pytest.fixture(scope="module")
def data() -> Dataset:
    return with_properties(make_dataset())


@pytest.fixture(scope="module")
def engine(data: Dataset) -> DuckDBEngine:
    e = DuckDBEngine(":memory:")
    for name in ("exposures", "events", "units"):
        load(e, name, getattr(data, name))
    return e


@pytest.mark.parametrize("by", [None, "country", "day"])
def test_funnels_match_brute_force(engine: DuckDBEngine, data: Dataset, by: str | None) -> None:
    got = compute_moments(engine, "checkout", 1, VARIANTS, FUNNELS, by=by, phase_start=PHASE_START)
    for m in FUNNELS:
        summary = got[m.name]
        assert isinstance(summary, FunnelSummary)
        assert_funnel(summary, oracle(data, m, by=by))


def tiny() -> Dataset:
    """Hand-made units whose funnel answers are known."""
    t0 = pd.Timestamp("2024-05-01 08:00:00")
    h = lambda x: t0 + pd.Timedelta(hours=x)  # noqa: E731
    exposures = pd.DataFrame(
        {
            "experiment": "checkout",
            "phase": 1,
            "unit_id": ["a", "b", "c", "d", "e", "f"],
            "variant": ["control"] * 3 + ["treatment"] * 3,
            "timestamp": [t0] * 6,
            "country": "fr",
        }
    )
    rows = [
        ("a", "view", 1), ("a", "purchase", 2),  # in order: yes
        ("b", "purchase", 1), ("b", "view", 2),  # wrong order: no
        ("c", "view", 3), ("c", "purchase", 3),  # same instant: not after, no
        ("d", "view", 1), ("d", "purchase", 31),  # 30 h apart: no within 24 h
        ("e", "view", 1), ("e", "view", 20), ("e", "purchase", 30),  # the later start: yes
        ("f", "view", -1), ("f", "purchase", 1),  # the view is before the window: no
    ]  # fmt: skip
    events = pd.DataFrame(
        {
            "unit_id": [r[0] for r in rows],
            "event": [r[1] for r in rows],
            "timestamp": [h(r[2]) for r in rows],
            "value": 1.0,
        }
    )
    return Dataset(exposures, events, pd.DataFrame({"unit_id": ["a"]}))


def test_order_ties_and_within_hours_on_known_units() -> None:
    data = tiny()
    e = DuckDBEngine(":memory:")
    for name in ("exposures", "events"):
        load(e, name, getattr(data, name))
    plain = MetricDef(name="plain", funnel=["view", "purchase"])
    day = MetricDef(name="day", funnel=["view", "purchase"], within_hours=24)
    got = compute_moments(e, "checkout", 1, VARIANTS, [plain, day])
    p, d = got["plain"], got["day"]
    assert isinstance(p, FunnelSummary)
    assert isinstance(d, FunnelSummary)
    # control: a yes, b no, c no; treatment: d yes (no limit), e yes, f no.
    assert p.reached[:, -1].tolist() == [1.0, 2.0]
    assert d.reached[:, -1].tolist() == [1.0, 1.0]
    assert p.reached[:, 0].tolist() == [3.0, 2.0]  # f's only view is before the window
    for m in (plain, day):
        assert_funnel(got[m.name], oracle(data, m, phase_start=None))  # type: ignore[arg-type]


def test_funnel_is_compared_as_a_proportion(engine: DuckDBEngine) -> None:
    from shipit.metrics.kinds import kind_of

    got = compute_moments(engine, "checkout", 1, VARIANTS, FUNNELS[:1])
    kind = kind_of(FUNNELS[0])
    c, v = kind.pair(got["view_buy"], [0], [1])
    cmp = kind.compare(c, v, alpha=0.05, alternative="two-sided", cuped=True)
    s = got["view_buy"]
    assert isinstance(s, FunnelSummary)
    p = s.reached[:, -1] / s.n
    assert cmp.raw.abs_effect[0] == pytest.approx(p[1] - p[0], abs=1e-12)
    assert cmp.adjusted is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"funnel": ["view"]}, "at least two steps"),
        ({"funnel": []}, "at least two steps"),
        ({"funnel": ["view", ""]}, "empty step"),
        ({"funnel": ["view", "buy"], "event": "view"}, "not event"),
        ({"funnel": ["view", "buy"], "winsorize": 0.99}, "no winsorize"),
        ({"funnel": ["view", "buy"], "within_hours": 0}, "greater than 0"),
        ({"event": "view", "within_hours": 2}, "within_hours needs a funnel"),
    ],
)
def test_bad_funnels_are_named(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MetricDef(name="m", **fields)  # type: ignore[arg-type]


def test_funnel_filter_on_a_missing_property_names_the_metric(engine: DuckDBEngine) -> None:
    bad = MetricDef(
        name="f", funnel=["view", "purchase"], where=[{"property": "nope", "op": "not_null"}]
    )
    with pytest.raises(SpecError, match=r"metric 'f'.*'nope'"):
        compute_moments(engine, "checkout", 1, VARIANTS, [bad])
