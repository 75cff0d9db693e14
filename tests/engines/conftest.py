"""The cross-engine suite: generated data with a straightforward pandas oracle.

The oracle computes every per-unit value with plain pandas filters and group-bys, so it
shares no code with the SQL compiler.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipit.spec.metric import MetricDef
from shipit.stats.moments import Moments

T0 = pd.Timestamp("2024-03-01 00:00:00")
PHASE_START = datetime(2024, 3, 1, 12, 0, 0)


@dataclass(frozen=True)
class Dataset:
    """The three store tables as DataFrames."""

    exposures: pd.DataFrame
    events: pd.DataFrame
    units: pd.DataFrame


def make_dataset(seed: int = 7, n_units: int = 240, n_events: int = 3000) -> Dataset:
    """Units exposed over four days (some twice, some to two variants, some in another
    phase or before the phase start), with events before and after their exposure."""
    rng = np.random.default_rng(seed)
    units = np.array([f"u{i:04d}" for i in range(n_units)])
    us = lambda n, days: T0 + pd.to_timedelta(rng.integers(0, int(days * 86400e6), n), "us")  # noqa: E731
    base = pd.DataFrame(
        {
            "experiment": "checkout",
            "phase": 1,
            "unit_id": units,
            "variant": rng.choice(["control", "treatment"], n_units),
            "timestamp": us(n_units, 4),
            "country": rng.choice(["de", "fr", "us", None], n_units, p=[0.3, 0.3, 0.3, 0.1]),
        }
    )
    repeat = base.sample(n=n_units // 4, random_state=seed).copy()
    repeat["timestamp"] = repeat["timestamp"] + pd.to_timedelta(
        rng.integers(1, int(2 * 86400e6), len(repeat)), "us"
    )
    repeat["country"] = rng.choice(["de", "fr", "us"], len(repeat))
    switch = base.sample(n=8, random_state=seed + 1).copy()
    switch["variant"] = np.where(switch["variant"] == "control", "treatment", "control")
    switch["timestamp"] = switch["timestamp"] + pd.Timedelta(hours=3)
    other_phase = base.sample(n=30, random_state=seed + 2).copy()
    other_phase["phase"] = 0
    other_phase["variant"] = "control"
    other_exp = base.sample(n=20, random_state=seed + 3).copy()
    other_exp["experiment"] = "search"
    exposures = pd.concat([base, repeat, switch, other_phase, other_exp], ignore_index=True)
    ev_units = rng.choice(np.concatenate([units, ["ghost1", "ghost2"]]), n_events)
    value = np.round(rng.lognormal(1.0, 1.2, n_events), 2)
    value[rng.random(n_events) < 0.05] = np.nan
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(n_events)],
            "unit_id": ev_units,
            "event": rng.choice(["purchase", "view", "signup"], n_events, p=[0.3, 0.6, 0.1]),
            "timestamp": T0
            + pd.to_timedelta(rng.integers(-3 * 86400e6, 7 * 86400e6, n_events), "us"),
            "value": value,
            "item": rng.integers(1, 6, n_events).astype(float),
            "neg": -value - 1.0,
        }
    )
    unit_table = pd.DataFrame(
        {
            "unit_id": units[: n_units - 20],
            "pre_spend": np.round(rng.gamma(2.0, 10.0, n_units - 20), 3),
            "tier": rng.choice(["gold", "basic"], n_units - 20),
        }
    )
    return Dataset(exposures, events, unit_table)


def _per_unit(
    agg: Any, window: Any, units: pd.DataFrame, events: pd.DataFrame, cutoff: pd.Timestamp | None
) -> np.ndarray:
    """One aggregation per unit, 0 for a unit without matching events."""
    ev = events[events["event"] == agg.event].merge(units[["unit_id", "first_ts"]], on="unit_id")
    lo = ev["first_ts"] + pd.to_timedelta(window.start_hours, "h")
    keep = ev["timestamp"] >= lo
    if window.end_hours is not None:
        keep &= ev["timestamp"] < ev["first_ts"] + pd.to_timedelta(window.end_hours, "h")
    if cutoff is not None:
        keep &= ev["timestamp"] < cutoff
    ev = ev[keep]
    grouped = ev.groupby("unit_id")[agg.value]
    values = {
        "sum": lambda: grouped.sum(),
        "count": lambda: ev.groupby("unit_id").size(),
        "count_distinct": lambda: grouped.nunique(),
        "max": lambda: grouped.max(),
        "any": lambda: ev.groupby("unit_id").size().clip(upper=1),
        "active_days": lambda: ev.groupby("unit_id")["timestamp"].agg(
            lambda t: t.dt.normalize().nunique()
        ),
    }[agg.aggregation]()
    return values.reindex(units["unit_id"]).fillna(0.0).to_numpy(dtype=float)


def _label(variant: str, segment: str | None, day: pd.Timestamp | None) -> str:
    if day is not None:
        return f"{variant}@{day.date().isoformat()}"
    if segment is not None:
        return f"{variant}/{segment}"
    return variant


def reference_moments(
    data: Dataset,
    experiment: str,
    phase: int | None,
    variants: Sequence[str],
    metrics: Sequence[MetricDef],
    *,
    by: str | None = None,
    phase_start: datetime | None = None,
) -> tuple[dict[str, Moments], int, int]:
    """Moments per metric, multi-variant units and pre-phase exposures, in plain pandas."""
    ex = data.exposures[data.exposures["experiment"] == experiment]
    if phase is not None:
        ex = ex[ex["phase"] == phase]
    pre = 0
    if phase_start is not None:
        pre = int((ex["timestamp"] < pd.Timestamp(phase_start)).sum())
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
    # The segment is the attribute of the unit's first exposure (even when null).
    units["country"] = g.apply(lambda d: d["country"].iloc[0], include_groups=False)
    multi = int((units["n_variants"] > 1).sum())
    units = units[(units["n_variants"] == 1) & units["variant"].isin(variants)].reset_index()
    units = units.merge(data.units, on="unit_id", how="left")
    if by == "day":
        starts = units["first_ts"].dt.normalize()
        later = data.events[data.events["timestamp"] >= units["first_ts"].min()]["timestamp"]
        days = sorted(set(starts) | set(later.dt.normalize()))
        cells = [(None, d) for d in days]
    elif by is not None:
        units["segment"] = units[by].astype(object).where(units[by].notna(), "(none)")
        cells = [(s, None) for s in sorted(units["segment"].unique())]
    else:
        cells = [(None, None)]
    out: dict[str, list[Moments]] = {m.name: [] for m in metrics}
    for segment, day in cells:
        sel = units
        cutoff = None
        if day is not None:
            sel = units[units["first_ts"].dt.normalize() <= day]
            cutoff = day + pd.Timedelta(days=1)
        elif segment is not None:
            sel = units  # caps are pooled over segments: computed on all units below
        for m in metrics:
            cols: dict[str, np.ndarray] = {}
            if m.numerator is not None and m.denominator is not None:
                cols["num"] = _per_unit(m.numerator, m.window, sel, data.events, cutoff)
                cols["den"] = _per_unit(m.denominator, m.window, sel, data.events, cutoff)
            else:
                cols["y"] = _per_unit(m, m.window, sel, data.events, cutoff)
            lo_cap = m.cap.min if m.cap is not None else None
            hi_cap = m.cap.max if m.cap is not None else None
            for k in list(cols):
                cols[k] = np.clip(cols[k], lo_cap, hi_cap) if m.cap is not None else cols[k]
            if m.winsorize is not None:
                # Pooled over all units at the end of the period, by day too.
                for k in list(cols):
                    agg = {"num": m.numerator, "den": m.denominator}.get(k, m)
                    whole = _per_unit(agg, m.window, units, data.events, None)
                    if m.cap is not None:
                        whole = np.clip(whole, lo_cap, hi_cap)
                    if m.winsorize_upper is not None:
                        cols[k] = np.minimum(cols[k], np.quantile(whole, m.winsorize_upper))
                    if m.winsorize_lower is not None:
                        cols[k] = np.maximum(cols[k], np.quantile(whole, m.winsorize_lower))
            for j, cov in enumerate(m.covariates, start=1):
                if cov.column is not None:
                    cols[f"x{j}"] = sel[cov.column].fillna(0.0).to_numpy(dtype=float)
                else:
                    cols[f"x{j}"] = _per_unit(cov, cov.window, sel, data.events, None)
            mask = np.ones(len(sel), dtype=bool)
            if segment is not None:
                mask = (sel["segment"] == segment).to_numpy()
            groups = sel["variant"].to_numpy()[mask]
            out[m.name].append(
                Moments.from_arrays(
                    [_label(v, segment, day) for v in groups],
                    {k: c[mask] for k, c in cols.items()},
                    labels=[_label(v, segment, day) for v in variants],
                )
            )
    return {k: Moments.concat(v) for k, v in out.items()}, multi, pre


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    """The generated data set of the suite."""
    return make_dataset()


@pytest.fixture
def reference() -> Callable[..., tuple[dict[str, Moments], int, int]]:
    """The pandas oracle."""
    return reference_moments


SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture
def snapshot(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/engines/snapshots/<test>/<engine>/out.sql; set
    UPDATE_SNAPSHOTS=1 to rewrite them after an intended change."""
    update = os.environ.get("UPDATE_SNAPSHOTS") == "1"

    def check(engine: str, text: str) -> None:
        path = SNAPSHOTS / request.node.name.split("[")[0] / engine / "out.sql"
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n")
        assert path.is_file(), f"no snapshot {path}: run with UPDATE_SNAPSHOTS=1 and review it"
        assert path.read_text() == text + "\n", f"SQL differs from {path}"

    return check


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local SparkSession for the whole run (startup is slow)."""
    pyspark = pytest.importorskip(
        "pyspark", reason="pyspark not installed (pip install shipit[spark])"
    )
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java 17: no java on PATH and no JAVA_HOME")
    import tempfile

    warehouse = tempfile.mkdtemp(prefix="shipit-spark-")
    session = (
        pyspark.sql.SparkSession.builder.master("local[2]")
        .appName("shipit-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        # Short-lived test JVM: quick JIT tiers and a small GC start faster.
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.sql.warehouse.dir", warehouse)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    shutil.rmtree(warehouse, ignore_errors=True)
