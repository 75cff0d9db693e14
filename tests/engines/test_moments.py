"""Moments from the engine equal the pandas oracle for every metric option (DuckDB)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipit.metrics.run import compute_moments, overall_and_by
from shipit.spec.metric import MetricDef
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

from .conftest import PHASE_START, Dataset

METRICS = [
    MetricDef(name="revenue", event="purchase", aggregation="sum"),
    MetricDef(name="purchases", event="purchase", aggregation="count"),
    MetricDef(name="items", event="purchase", aggregation="count_distinct", value="item"),
    MetricDef(name="max_view", event="view", aggregation="max"),
    MetricDef(name="converted", event="signup", aggregation="any"),
    MetricDef(
        name="revenue_per_view",
        numerator={"event": "purchase", "aggregation": "sum"},
        denominator={"event": "view", "aggregation": "count"},
    ),
    MetricDef(name="revenue_24h", event="purchase", window={"start_hours": 1, "end_hours": 24}),
    MetricDef(name="revenue_w", event="purchase", winsorize=0.9),
    MetricDef(
        name="views_cuped",
        event="view",
        aggregation="count",
        covariates=[
            {"name": "pre_views", "event": "view", "aggregation": "count"},
            {"name": "pre_spend", "column": "pre_spend"},
        ],
    ),
    MetricDef(
        name="ratio_w_cov",
        numerator={"event": "purchase"},
        denominator={"event": "view", "aggregation": "count"},
        winsorize=0.95,
        window={"end_hours": 48},
        covariates=[
            {"name": "pre_rev", "event": "purchase", "window": {"start_hours": -48, "end_hours": 0}}
        ],
    ),
]
VARIANTS = ["control", "treatment"]


@pytest.fixture(scope="module")
def engine(dataset: Dataset) -> DuckDBEngine:
    e = DuckDBEngine(":memory:")
    load(e, "exposures", dataset.exposures)
    load(e, "events", dataset.events)
    load(e, "units", dataset.units)
    return e


def assert_same(got: Any, want: tuple[dict[str, Any], int, int]) -> None:
    moments, multi, pre = want
    assert got.multi_variant_units == multi
    assert got.pre_phase_exposures == pre
    assert list(got.metrics) == list(moments)
    for name, m in moments.items():
        g = got[name]
        assert g.labels == m.labels, name
        assert g.names == m.names, name
        assert g.allclose(m, rtol=1e-9, atol=1e-9), (name, g.matrix - m.matrix)


@pytest.mark.parametrize("by", [None, "country", "tier", "day"])
@pytest.mark.parametrize("phase_start", [None, PHASE_START])
def test_moments_match_pandas(
    engine: DuckDBEngine,
    dataset: Dataset,
    reference: Callable[..., Any],
    by: str | None,
    phase_start: datetime | None,
) -> None:
    got = compute_moments(engine, "checkout", 1, VARIANTS, METRICS, by=by, phase_start=phase_start)
    want = reference(dataset, "checkout", 1, VARIANTS, METRICS, by=by, phase_start=phase_start)
    assert_same(got, want)


def test_phase_none_pools_all_phases(
    engine: DuckDBEngine, dataset: Dataset, reference: Callable[..., Any]
) -> None:
    got = compute_moments(engine, "checkout", None, VARIANTS, METRICS[:2])
    assert_same(got, reference(dataset, "checkout", None, VARIANTS, METRICS[:2]))
    assert got.multi_variant_units > 8  # the other phase's "control" adds switchers


def test_multi_variant_units_are_counted_and_excluded(engine: DuckDBEngine) -> None:
    got = compute_moments(engine, "checkout", 1, VARIANTS, METRICS[:1])
    # 240 units, 8 of them also saw the other variant.
    assert got.multi_variant_units == 8
    assert got["revenue"].n.sum() == 232


def test_unknown_experiment_gives_empty_moments(engine: DuckDBEngine) -> None:
    got = compute_moments(engine, "nope", 1, VARIANTS, METRICS[:1])
    assert got["revenue"].labels == ("control", "treatment")
    assert got["revenue"].n.tolist() == [0.0, 0.0]


# Decomposable aggregates only: by day these take the per-unit change plan (metrics.daily).
DAILY = [m for m in METRICS if m.winsorize is None and m.aggregation != "count_distinct"] + [
    MetricDef(name="max_neg", event="view", aggregation="max", value="neg"),
    MetricDef(
        name="same_as_cov",
        event="purchase",
        covariates=[{"name": "x", "event": "purchase", "window": {"start_hours": 0}}],
    ),
]


@pytest.mark.parametrize("phase_start", [None, PHASE_START])
def test_daily_changes_match_pandas(
    engine: DuckDBEngine,
    dataset: Dataset,
    reference: Callable[..., Any],
    phase_start: datetime | None,
) -> None:
    got = compute_moments(engine, "checkout", 1, VARIANTS, DAILY, by="day", phase_start=phase_start)
    assert "exposed_days" not in got.sql  # no units x days pairing
    want = reference(dataset, "checkout", 1, VARIANTS, DAILY, by="day", phase_start=phase_start)
    assert_same(got, want)


# Windows that end: by day these take the plan with one row per unit and a column per day
# (metrics.daily.pivot_ctes); events before the exposure day count from it on.
BOUNDED = [
    MetricDef(name="revenue_3d", event="purchase", window={"end_hours": 72}),
    MetricDef(
        name="purchases_36h",
        event="purchase",
        aggregation="count",
        window={"start_hours": 1, "end_hours": 36},
    ),
    MetricDef(name="max_view_2d", event="view", aggregation="max", window={"end_hours": 48}),
    MetricDef(
        name="max_neg_2d", event="view", aggregation="max", value="neg", window={"end_hours": 48}
    ),
    MetricDef(name="converted_1d", event="signup", aggregation="any", window={"end_hours": 24}),
    MetricDef(
        name="rpv_2d",
        numerator={"event": "purchase", "aggregation": "sum"},
        denominator={"event": "view", "aggregation": "count"},
        window={"end_hours": 48},
    ),
    MetricDef(
        name="around",
        event="purchase",
        window={"start_hours": -30, "end_hours": 30.5},
        covariates=[
            {
                "name": "pre_rev",
                "event": "purchase",
                "window": {"start_hours": -48, "end_hours": 0},
            },
            {"name": "pre_spend", "column": "pre_spend"},
        ],
    ),
    METRICS[9],  # winsorized: capped at the period's caps on every day
]


@pytest.mark.parametrize("phase_start", [None, PHASE_START])
@pytest.mark.parametrize("slice_units", [None, 100])
def test_daily_moments_of_ending_windows_match_pandas(
    engine: DuckDBEngine,
    dataset: Dataset,
    reference: Callable[..., Any],
    phase_start: datetime | None,
    slice_units: int | None,
) -> None:
    got = compute_moments(
        engine,
        "checkout",
        1,
        VARIANTS,
        BOUNDED,
        by="day",
        phase_start=phase_start,
        slice_units=slice_units,
    )
    assert "cohorts" in got.sql
    assert "unit_days" not in got.sql
    assert "exposed_days" not in got.sql
    want = reference(dataset, "checkout", 1, VARIANTS, BOUNDED, by="day", phase_start=phase_start)
    assert_same(got, want)


def test_an_open_window_keeps_the_change_plan(engine: DuckDBEngine) -> None:
    got = compute_moments(engine, "checkout", 1, VARIANTS, [*BOUNDED, DAILY[0]], by="day")
    assert "unit_days" in got.sql
    assert "cohorts" not in got.sql


@pytest.mark.parametrize("phase_start", [None, PHASE_START])
@pytest.mark.parametrize("slice_units", [40, 100, 299])
def test_daily_moments_in_slices_of_units_match_pandas(
    engine: DuckDBEngine,
    dataset: Dataset,
    reference: Callable[..., Any],
    phase_start: datetime | None,
    slice_units: int,
) -> None:
    metrics = [*DAILY, METRICS[7], METRICS[9]]  # winsorized: capped alike on every day
    got = compute_moments(
        engine,
        "checkout",
        1,
        VARIANTS,
        metrics,
        by="day",
        phase_start=phase_start,
        slice_units=slice_units,
    )
    assert "slices of units" in got.sql
    want = reference(dataset, "checkout", 1, VARIANTS, metrics, by="day", phase_start=phase_start)
    assert_same(got, want)


def test_winsorized_daily_moments_use_the_period_caps_on_every_day(
    engine: DuckDBEngine, dataset: Dataset, reference: Callable[..., Any]
) -> None:
    capped = [METRICS[7], METRICS[9]]
    overall = compute_moments(engine, "checkout", 1, VARIANTS, capped)
    assert set(overall.caps) == {("revenue_w", "y"), ("ratio_w_cov", "num"), ("ratio_w_cov", "den")}
    daily = compute_moments(engine, "checkout", 1, VARIANTS, capped, by="day")
    given = compute_moments(
        engine, "checkout", 1, VARIANTS, capped, by="day", cap_values=overall.caps
    )
    for name in ("revenue_w", "ratio_w_cov"):
        assert daily[name].allclose(given[name], rtol=1e-12, atol=1e-9)
        # The last day holds every unit's whole-period value: the overall moments.
        last = daily[name].labels.index(f"treatment@{max(g.day for g in daily.groups)}")
        assert np.allclose(daily[name].matrix[last], overall[name].matrix[1], rtol=1e-12)
    assert "LEAST(" in daily.sql
    assert "QUANTILE" not in daily.sql.upper()


def _tiny(exposures: dict[str, list[Any]], events: dict[str, list[Any]]) -> DuckDBEngine:
    e = DuckDBEngine(":memory:")
    load(e, "exposures", pd.DataFrame({"experiment": "x", "phase": 1, **exposures}))
    load(e, "events", pd.DataFrame({"event": "buy", **events}))
    return e


def test_slices_with_different_days_carry_their_sums_forward() -> None:
    # ua (control) and ue (treatment) fall in different slices; day 3 exists only in ue's
    # slice (its exposure), and ua's sums must still count on it.
    e = _tiny(
        {
            "unit_id": ["ua", "ue"],
            "variant": ["control", "treatment"],
            "timestamp": ["2024-01-01 10:00", "2024-01-03 10:00"],
        },
        {
            "event_id": ["e1", "e2"],
            "unit_id": ["ua", "ua"],
            "timestamp": ["2024-01-01 11:00", "2024-01-02 11:00"],
            "value": [5.0, 7.0],
        },
    )
    k = e.query("SELECT hash('ua') % 2 <> hash('ue') % 2 AS apart").to_pydict()["apart"][0]
    assert k, "the two units must hash to different slices of 2"
    metric = [MetricDef(name="rev", event="buy")]
    whole = compute_moments(e, "x", 1, VARIANTS, metric, by="day")
    sliced = compute_moments(e, "x", 1, VARIANTS, metric, by="day", slice_units=1)
    assert sliced.sql.startswith("-- 2 slices")
    assert sliced["rev"].labels == whole["rev"].labels
    assert sliced["rev"].allclose(whole["rev"], rtol=1e-12, atol=0)
    day3 = sliced["rev"].labels.index("control@2024-01-03")
    assert sliced["rev"].matrix[day3, 0, :2].tolist() == [1.0, 12.0]


def test_slices_keep_the_sanity_counts_when_no_unit_is_left() -> None:
    e = _tiny(
        {
            "unit_id": ["ua", "ua", "ue", "ue"],
            "variant": ["control", "treatment"] * 2,
            "timestamp": ["2024-01-01 10:00", "2024-01-01 11:00"] * 2,
        },
        {"event_id": ["e1"], "unit_id": ["ua"], "timestamp": ["2024-01-01 12:00"], "value": [5.0]},
    )
    metric = [MetricDef(name="rev", event="buy")]
    for slice_units in (10, 1):
        got = compute_moments(e, "x", 1, VARIANTS, metric, by="day", slice_units=slice_units)
        assert got.multi_variant_units == 2
        assert got["rev"].n.sum() == 0


@pytest.mark.parametrize("by", ["country", "entry_week"])
@pytest.mark.parametrize("phase_start", [None, PHASE_START])
def test_overall_from_the_segments_equals_the_overall_query(
    engine: DuckDBEngine, by: str, phase_start: datetime | None
) -> None:
    """Each unit keeps the segment of its first exposure, so the segments partition the
    units and their sums are the overall moments (winsorizing caps pooled alike)."""
    overall, segments = overall_and_by(
        engine, "checkout", 1, VARIANTS, METRICS, by, phase_start=phase_start
    )
    want = compute_moments(engine, "checkout", 1, VARIANTS, METRICS, phase_start=phase_start)
    assert overall.sql.startswith("-- each variant's sums over the segments")
    assert overall.groups == want.groups
    assert overall.caps == want.caps
    assert (overall.multi_variant_units, overall.pre_phase_exposures) == (
        want.multi_variant_units,
        want.pre_phase_exposures,
    )
    for name in want.metrics:
        assert overall[name].labels == want[name].labels
        assert overall[name].allclose(want[name], rtol=1e-12, atol=1e-9), name
    by_query = compute_moments(
        engine, "checkout", 1, VARIANTS, METRICS, by=by, phase_start=phase_start
    )
    # DuckDB sums in parallel, so the last bits may differ between two queries.
    assert all(segments[m].allclose(by_query[m], rtol=1e-12, atol=1e-9) for m in want.metrics)


def test_a_units_table_segment_keeps_its_own_overall_query(engine: DuckDBEngine) -> None:
    # A units table may hold a unit twice: its segments are not trusted to partition.
    overall, _ = overall_and_by(engine, "checkout", 1, VARIANTS, METRICS[:2], "tier")
    assert "sums over the segments" not in overall.sql


def test_a_quantile_metric_keeps_its_own_overall_query(engine: DuckDBEngine) -> None:
    # A quantile of all units is not a sum over segments: the overall query runs.
    metrics = [METRICS[0], MetricDef(name="p90", event="purchase", quantile=0.9)]
    overall, _ = overall_and_by(engine, "checkout", 1, VARIANTS, metrics, "country")
    want = compute_moments(engine, "checkout", 1, VARIANTS, metrics)
    assert "sums over the segments" not in overall.sql
    assert overall["revenue"].allclose(want["revenue"], rtol=0, atol=0)
    assert type(overall["p90"]) is type(want["p90"])
