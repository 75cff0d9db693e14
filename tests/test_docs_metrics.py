"""Every YAML block of docs/metrics.md loads and computes on generated data, and a few of
its metrics equal pandas on the raw rows; every option the page documents is shown."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipit.metrics.kinds.funnel import FunnelSummary
from shipit.metrics.run import compute_moments
from shipit.spec.io import load_metrics
from shipit.spec.metric import FilterOp, MetricDef
from shipit.stats.moments import Moments
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

DOC = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"
T0 = pd.Timestamp("2024-06-01")
EVENTS = ["purchase", "page_view", "view_item", "add_to_cart", "session", "page_load"]


def doc_metrics(tmp_path: Path) -> list[MetricDef]:
    """The metrics of every YAML block, in order, loaded as a metrics file."""
    text = DOC.read_text(encoding="utf-8")
    found: list[MetricDef] = []
    for i, block in enumerate(re.findall(r"^```yaml\n(.*?)^```", text, flags=re.M | re.S)):
        path = tmp_path / f"block{i}.yaml"
        path.write_text(block)
        found += load_metrics(path)
    return found


def store(n: int = 400, seed: int = 5) -> tuple[DuckDBEngine, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    units = np.array([f"u{i:04d}" for i in range(n)])
    exposures = pd.DataFrame(
        {"experiment": "docs", "phase": 1, "unit_id": units,
         "variant": rng.choice(["control", "treatment"], n),
         "timestamp": T0 + pd.to_timedelta(rng.integers(0, 86400, n), "s")}
    )  # fmt: skip
    k = 12 * n
    events = pd.DataFrame(
        {
            "unit_id": rng.choice(units, k),
            "event": rng.choice(EVENTS, k),
            "timestamp": T0 + pd.to_timedelta(rng.integers(-5 * 86400, 10 * 86400, k), "s"),
            "value": np.round(rng.lognormal(3.0, 1.5, k), 2),
            "country": rng.choice(np.array(["fr", "de", "us", None], dtype=object), k),
            "device": rng.choice(["ios", "android", "web"], k),
            "price": np.round(rng.uniform(0, 100, k), 1),
        }
    )
    engine = DuckDBEngine(":memory:")
    load(engine, "exposures", exposures)
    load(engine, "events", events)
    return engine, exposures, events


def per_unit_sum(exposures: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """Each exposed unit's sum of the given events' values after its exposure."""
    ev = events.merge(exposures[["unit_id", "timestamp"]], on="unit_id", suffixes=("", "_x"))
    ev = ev[ev["timestamp"] >= ev["timestamp_x"]]
    return ev.groupby("unit_id")["value"].sum().reindex(exposures["unit_id"]).fillna(0.0)


def test_every_documented_metric_computes(tmp_path: Path) -> None:
    metrics = doc_metrics(tmp_path)
    names = {m.name for m in metrics}
    assert {"revenue_fr", "checkout_funnel", "active_days_week1", "net_revenue"} <= names
    engine, exposures, events = store()
    got = compute_moments(engine, "docs", 1, ["control", "treatment"], metrics)
    for m in metrics:
        summary = got[m.name]
        assert summary.n.sum() == len(exposures), m.name
        if isinstance(summary, Moments):
            assert np.isfinite(summary.matrix).all(), m.name
            assert summary.matrix[:, 0, 1].sum() > 0, m.name  # something was counted
    fr = events[(events["event"] == "purchase") & (events["country"] == "fr")]
    want = per_unit_sum(exposures, fr)
    m = got.moments("revenue_fr")
    assert m.matrix[:, 0, 1].sum() == pytest.approx(want.sum(), rel=1e-9)
    assert m.matrix[:, 1, 1].sum() == pytest.approx((want**2).sum(), rel=1e-9)
    capped = per_unit_sum(exposures, events[events["event"] == "purchase"]).clip(upper=1000)
    assert got.moments("revenue_capped").matrix[:, 0, 1].sum() == pytest.approx(
        capped.sum(), rel=1e-9
    )
    funnel = got["checkout_funnel"]
    assert isinstance(funnel, FunnelSummary)
    assert (np.diff(funnel.reached, axis=1) <= 0).all()


def test_every_option_is_documented(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    for op in typing.get_args(FilterOp):
        assert f"`{op}`" in text, op
    shown = doc_metrics(tmp_path)
    assert any(m.within_hours for m in shown)
    assert any(m.aggregation == "active_days" for m in shown)
    assert any(m.winsorize_lower for m in shown)
    assert any(m.cap and m.cap.min is not None for m in shown)
    assert any(m.cap and m.cap.max is not None for m in shown)
    assert any(m.numerator and m.numerator.where for m in shown)
    assert any(c.where for m in shown for c in m.covariates)
