"""Generated data carry the intended truths (true means per arm) within sampling error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipit.errors import InputError
from shipit.sim import SimData, generate, iter_chunks, scenario
from shipit.sim._base import collect
from shipit.sim.recommender import Recommender
from shipit.spec.metric import MetricDef


def _per_unit(data: SimData, event: str, how: str) -> pd.Series:
    ev = data.events[data.events["event"] == event].groupby("unit_id")["value"]
    s = ev.sum() if how == "sum" else ev.size()
    return s.reindex(data.exposures["unit_id"]).fillna(0.0).set_axis(data.exposures.index)


def _lift_z(y: pd.Series, arm: pd.Series, control: str, variant: str, truth: float) -> float:
    """z of the observed relative lift against the truth (delta-method standard error)."""
    a, b = y[arm == control], y[arm == variant]
    ma, mb = a.mean(), b.mean()
    va, vb = a.var() / len(a), b.var() / len(b)
    se = np.sqrt(vb / ma**2 + mb**2 * va / ma**4)
    return float((mb / ma - 1 - truth) / se)


def _ratio_lift_z(
    num: pd.Series, den: pd.Series, arm: pd.Series, c: str, v: str, truth: float
) -> float:
    def rate(mask: pd.Series) -> tuple[float, float]:
        n, d = num[mask], den[mask]
        r = n.sum() / d.sum()
        lin = (n - r * d) / d.mean()
        return r, float(lin.var() / mask.sum())

    rc, vc = rate(arm == c)
    rv, vv = rate(arm == v)
    se = np.sqrt(vv / rc**2 + rv**2 * vc / rc**4)
    return float((rv / rc - 1 - truth) / se)


def test_tables_have_the_contract_columns() -> None:
    d = generate("ecommerce", 2_000, seed=1)
    assert list(d.exposures.columns[:3]) == ["unit_id", "variant", "ts"]
    assert list(d.events.columns) == ["event_id", "unit_id", "event", "ts", "value"]
    assert d.units["unit_id"].is_unique
    assert d.events["event_id"].is_unique
    assert set(d.events["unit_id"]) <= set(d.units["unit_id"])
    assert all(isinstance(m, MetricDef) for m in d.metrics)
    assert d.exposures["ts"].dtype.kind == "M"


def test_same_seed_same_data_and_chunks_add_up() -> None:
    a = generate("three-models", 3_000, seed=7, chunk_size=1_000)
    b = generate("three-models", 3_000, seed=7, chunk_size=1_000)
    pd.testing.assert_frame_equal(a.events, b.events)
    seen: list[tuple[int, int]] = []
    chunks = list(
        iter_chunks(
            "three-models",
            3_000,
            seed=7,
            chunk_size=1_000,
            progress=lambda done, total: seen.append((done, total)),
        )
    )
    assert seen == [(1000, 3000), (2000, 3000), (3000, 3000)]
    assert sum(len(c.units) for c in chunks) == 3_000
    events = pd.concat([c.events for c in chunks], ignore_index=True)
    assert events["event_id"].is_unique


def test_recommender_truths_hold() -> None:
    d = generate("recommender", 60_000, seed=11)
    arm = d.exposures["variant"]
    watch = _per_unit(d, "watch", "sum")
    sessions = _per_unit(d, "watch", "count")
    # The arms differ in pre-period activity by chance alone, which the raw lift's standard
    # error already carries: the raw lifts are unbiased for the truths.
    units = d.units.set_index("unit_id").loc[d.exposures["unit_id"]].reset_index(drop=True)
    light = units["activity"] == "light"
    t = d.true_effects
    assert abs(_lift_z(watch, arm, "control", "new_recommender", t["watch_time"])) < 3.5
    assert (
        abs(
            _lift_z(
                watch[light],
                arm[light],
                "control",
                "new_recommender",
                t["watch_time@activity=light"],
            )
        )
        < 3.5
    )
    assert abs(_lift_z(sessions, arm, "control", "new_recommender", t["sessions"])) < 3.5
    assert t["watch_time@activity=light"] > t["watch_time@activity=heavy"]
    assert abs(t["watch_time"] - 0.07) < 1e-12


def test_recommender_novelty_decays_over_the_first_week() -> None:
    d = generate("recommender", 40_000, seed=12, chunk_size=20_000)
    ev = d.events.merge(
        d.exposures[["unit_id", "variant", "ts"]], on="unit_id", suffixes=("", "_first")
    )
    day = ((ev["ts"] - ev["ts_first"]) / pd.Timedelta(days=1)).astype(int)
    per_session = ev.groupby([day < 2, "variant"])["value"].mean().unstack()
    lift = per_session["new_recommender"] / per_session["control"]
    assert lift.loc[True] > lift.loc[False] + 0.05  # first days carry the novelty bump


def test_ecommerce_truths_hold() -> None:
    d = generate("ecommerce", 80_000, seed=13)
    arm = d.exposures["variant"]
    t = d.true_effects
    pv, ck = _per_unit(d, "page_view", "count"), _per_unit(d, "click", "count")
    assert abs(_ratio_lift_z(ck, pv, arm, "control", "ml_recs", t["ctr"])) < 3.5
    rev = _per_unit(d, "purchase", "sum")
    assert abs(_lift_z(rev, arm, "control", "ml_recs", t["revenue"])) < 3.5
    cart = (_per_unit(d, "add_to_cart", "count") > 0).astype(float)
    assert abs(_lift_z(cart, arm, "control", "ml_recs", t["add_to_cart"])) < 3.5
    load = d.events[d.events["event"] == "page_view"].merge(d.exposures[["unit_id", "variant"]])
    g = load.groupby("variant")["value"]
    diff = g.mean()["ml_recs"] - g.mean()["control"]
    se = np.sqrt((g.var() / g.size()).sum())
    assert abs(diff - t["page_load_ms"]) < 3.5 * se
    assert set(d.exposures["device"]) == {"mobile", "desktop", "tablet"}
    assert set(d.exposures["visitor"]) == {"new", "returning"}


def test_three_models_ctr_levels_hold() -> None:
    d = generate("three-models", 40_000, seed=14)
    ev = d.events.merge(d.exposures[["unit_id", "variant"]])
    counts = ev.groupby(["variant", "event"]).size().unstack()
    for v in ("popularity", "collaborative", "content", "hybrid"):
        clicks, imps = counts.loc[v, "click"], counts.loc[v, "impression"]
        level = d.true_effects[f"ctr_level[{v}]"]
        # Clustered by user, so allow a generous (×2) binomial standard error.
        se = np.sqrt(level * (1 - level) / imps) * 2
        assert abs(clicks / imps - level) < 3.5 * se, v


def test_recommender_arms_are_balanced_within_each_tenure_band() -> None:
    """The scenario randomizes with the platform's stratified design (assign.designs)."""
    d = collect(Recommender(), 4_000, seed=3)
    both = d.exposures.merge(d.units, on="unit_id")
    counts = both.groupby(["tenure_band", "variant"], observed=True).size().unstack()
    assert len(counts) == 4
    assert (counts["control"] - counts["new_recommender"]).abs().max() <= 1


def test_movielens_mode_uses_real_activity(shared_data: Path) -> None:
    d = generate("recommender", 20_000, seed=15, movielens=shared_data / "movielens-small")
    assert d.info.true_effects["watch_time"] == pytest.approx(0.07)
    counts = pd.read_csv(shared_data / "movielens-small" / "ratings.csv").groupby("userId").size()
    # Heavy-tailed like MovieLens: the top 10% of units carry a large share of activity.
    pre = np.sort(d.units["pre_sessions"].to_numpy())[::-1]
    share_top = pre[: pre.size // 10].sum() / pre.sum()
    ref = np.sort(counts.to_numpy())[::-1]
    assert share_top == pytest.approx(ref[: ref.size // 10].sum() / ref.sum(), abs=0.08)


def test_bad_inputs_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown scenario"):
        scenario("nope")
    with pytest.raises(InputError, match="recommender scenario only"):
        scenario("ecommerce", movielens=tmp_path)
    with pytest.raises(InputError, match=r"no ratings\.csv"):
        scenario("recommender", movielens=tmp_path)
    with pytest.raises(InputError, match="n_users"):
        generate("ecommerce", 1)


@pytest.mark.slow
def test_cuped_covers_the_truth_over_replications_and_the_raw_lift_is_unbiased() -> None:
    """100 seeded replications: the CUPED interval covers +7% in 95% ± 5% of them; the raw
    lift, as noisy as chance imbalance makes it, centres on the truth."""
    covered, raw_lifts = 0, []
    for seed in range(100):
        d = generate("recommender", 10_000, seed=5000 + seed)
        y = _per_unit(d, "watch", "sum").to_numpy()
        treated = (d.exposures["variant"] == "new_recommender").to_numpy()
        x = d.units.set_index("unit_id").loc[d.exposures["unit_id"], list(d.info.covariates)]
        xc = x.to_numpy(dtype=float) - x.to_numpy(dtype=float).mean(axis=0)
        theta = np.linalg.lstsq(np.c_[np.ones(y.size), xc], y, rcond=None)[0][1:]
        adj = y - xc @ theta  # plain CUPED: one pooled slope
        a, b = adj[~treated], adj[treated]
        ma, mb = a.mean(), b.mean()
        se = np.sqrt(b.var(ddof=1) / b.size / ma**2 + mb**2 * a.var(ddof=1) / a.size / ma**4)
        covered += abs(mb / ma - 1 - d.true_effects["watch_time"]) < 1.96 * se
        raw_lifts.append(y[treated].mean() / y[~treated].mean() - 1)
    assert 90 <= covered <= 100
    raw = np.array(raw_lifts)
    assert abs(raw.mean() - d.true_effects["watch_time"]) < 3 * raw.std(ddof=1) / np.sqrt(raw.size)
