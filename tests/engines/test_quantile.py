"""Quantile metrics from the engine equal numpy on the same observations (DuckDB; Spark by
marker): the estimate, the delta-method σ of F̂(q̂) and the order-statistic bounds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipit.metrics.run import compute_moments
from shipit.metrics.summary import GroupKey
from shipit.spec.metric import MetricDef
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

from .conftest import PHASE_START, Dataset, _per_unit
from .test_spark import spark_engine  # noqa: F401  (the Spark store fixture)

VARIANTS = ["control", "treatment"]
QUANTILES = [
    MetricDef(name="p90_purchase", event="purchase", quantile=0.9),
    MetricDef(name="median_view", event="view", quantile=0.5, window={"end_hours": 48}),
    MetricDef(
        name="p75_spend", event="purchase", aggregation="sum", quantile=0.75, quantile_of="units"
    ),
    MetricDef(
        name="p95_views", event="view", aggregation="count", quantile=0.95, quantile_of="units"
    ),
]
Z95 = 1.959963984540054


def observations(
    data: Dataset, metric: MetricDef, by: str | None, phase_start: datetime | None
) -> dict[tuple[str, str | None, str | None], tuple[np.ndarray, np.ndarray]]:
    """Per (variant, segment, day): the observations and the unit each came from, in
    pandas (exposure semantics as the moments oracle's)."""
    ex = data.exposures
    ex = ex[(ex["experiment"] == "checkout") & (ex["phase"] == 1)]
    if phase_start is not None:
        ex = ex[ex["timestamp"] >= pd.Timestamp(phase_start)]
    ex = ex.sort_values("timestamp")
    g = ex.groupby("unit_id")
    units = pd.DataFrame(
        {
            "first_ts": g["timestamp"].min(),
            "variant": g["variant"].first(),
            "n_variants": g["variant"].nunique(),
        }
    )
    units["country"] = g.apply(lambda d: d["country"].iloc[0], include_groups=False)
    units = units[units["n_variants"] == 1].reset_index()
    units["segment"] = units["country"].astype(object).where(units["country"].notna(), "(none)")
    if by == "day":
        later = data.events[data.events["timestamp"] >= units["first_ts"].min()]["timestamp"]
        days = sorted(set(units["first_ts"].dt.normalize()) | set(later.dt.normalize()))
        cells: list[tuple[str | None, Any]] = [(None, d) for d in days]
    elif by is not None:
        cells = [(s, None) for s in sorted(units["segment"].unique())]
    else:
        cells = [(None, None)]
    out = {}
    for segment, day in cells:
        sel = units
        cutoff = None
        if day is not None:
            sel = units[units["first_ts"].dt.normalize() <= day]
            cutoff = day + pd.Timedelta(days=1)
        if segment is not None:
            sel = sel[sel["segment"] == segment]
        sel = sel.reset_index(drop=True)
        if metric.quantile_of == "units":
            x = _per_unit(metric, metric.window, sel, data.events, cutoff)
            unit = sel["unit_id"].to_numpy()
        else:
            ev = data.events[data.events["event"] == metric.event].merge(
                sel[["unit_id", "first_ts"]], on="unit_id"
            )
            start = ev["first_ts"] + pd.to_timedelta(metric.window.start_hours, "h")
            keep = ev["timestamp"] >= start
            if metric.window.end_hours is not None:
                end = ev["first_ts"] + pd.to_timedelta(metric.window.end_hours, "h")
                keep &= ev["timestamp"] < end
            if cutoff is not None:
                keep &= ev["timestamp"] < cutoff
            keep &= ev[metric.value].notna()
            ev = ev[keep]
            x = ev[metric.value].to_numpy(dtype=float)
            unit = ev["unit_id"].to_numpy()
        key_day = day.date().isoformat() if day is not None else None
        variant_of = dict(zip(sel["unit_id"], sel["variant"], strict=True))
        for v in VARIANTS:
            mine = np.array([variant_of[u] == v for u in unit], dtype=bool)
            n_units = int((sel["variant"] == v).sum())
            if n_units:
                out[(v, segment, key_day)] = (x[mine], unit[mine], n_units)  # type: ignore[assignment]
    return out  # type: ignore[return-value]


def numpy_quantile(q: float, x: np.ndarray, unit: np.ndarray, n_units: int) -> dict[str, float]:
    """Deng, Knoblich & Lu (2018) written out with numpy: q̂, σ of ΣS/ΣN, the bounds."""
    if len(x) == 0:
        return {"estimate": np.nan, "sigma": np.nan, "low": np.nan, "high": np.nan}
    qhat = float(np.quantile(x, q))
    ids, inverse = np.unique(unit, return_inverse=True)
    s = np.bincount(inverse, weights=(x <= qhat).astype(float), minlength=len(ids))
    c = np.bincount(inverse, minlength=len(ids)).astype(float)
    s = np.concatenate([s, np.zeros(n_units - len(ids))])  # units without observations
    c = np.concatenate([c, np.zeros(n_units - len(ids))])
    r = s.sum() / c.sum()
    sigma = float(np.sqrt(np.var(s - r * c, ddof=1) / n_units / c.mean() ** 2))
    lo_p, hi_p = np.clip([q - Z95 * sigma, q + Z95 * sigma], 0.0, 1.0)
    return {
        "estimate": qhat,
        "sigma": sigma,
        "low": float(np.quantile(x, lo_p)),
        "high": float(np.quantile(x, hi_p)),
    }


@pytest.fixture(scope="module")
def engine(dataset: Dataset) -> DuckDBEngine:
    e = DuckDBEngine(":memory:")
    for name in ("exposures", "events", "units"):
        load(e, name, getattr(dataset, name))
    return e


def check_against_numpy(
    compute: Callable[..., Any], data: Dataset, metric: MetricDef, by: str | None, start: Any
) -> None:
    got = compute(metric, by, start)
    want = observations(data, metric, by, start)
    present = {(g.variant, g.segment, g.day) for g, n in zip(got.groups, got.n, strict=True) if n}
    assert present == set(want), metric.name
    q = float(metric.quantile or 0)
    for cell, (x, unit, n_units) in want.items():
        i = got.groups.index(GroupKey(*cell))
        ref = numpy_quantile(q, x, unit, n_units)
        assert got.n[i] == n_units, cell
        assert got.n_obs[i] == len(x), cell
        for name, value in (
            ("estimate", got.estimate[i]),
            ("sigma", got.sigma[i]),
            ("low", got.ci_low[i]),
            ("high", got.ci_high[i]),
        ):
            np.testing.assert_allclose(
                value, ref[name], rtol=1e-9, atol=1e-9, err_msg=f"{cell} {name}"
            )


@pytest.mark.parametrize("metric", QUANTILES, ids=lambda m: m.name)
@pytest.mark.parametrize("by", [None, "country", "day"])
@pytest.mark.parametrize("phase_start", [None, PHASE_START])
def test_quantiles_match_numpy(
    engine: DuckDBEngine,
    dataset: Dataset,
    metric: MetricDef,
    by: str | None,
    phase_start: datetime | None,
) -> None:
    def compute(m: MetricDef, b: str | None, s: datetime | None) -> Any:
        return compute_moments(engine, "checkout", 1, VARIANTS, [m], by=b, phase_start=s)[m.name]

    check_against_numpy(compute, dataset, metric, by, phase_start)


@pytest.mark.spark
@pytest.mark.parametrize("by", [None, "country", "day"])
def test_spark_quantiles_match_numpy(
    request: pytest.FixtureRequest, dataset: Dataset, by: str | None
) -> None:
    """Spark's exact PERCENTILE gives numpy's estimate and bounds, in both modes."""
    spark = request.getfixturevalue("spark_engine")

    def compute(m: MetricDef, b: str | None, s: datetime | None) -> Any:
        return compute_moments(spark, "checkout", 1, VARIANTS, [m], by=b, phase_start=s)[m.name]

    for metric in (QUANTILES[0], QUANTILES[2]):
        check_against_numpy(compute, dataset, metric, by, PHASE_START)
