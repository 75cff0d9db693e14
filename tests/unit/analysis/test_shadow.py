"""The shadow analysis: its numbers equal a pandas computation on the raw rows (to 1e-9),
its intervals cover a known truth at their level over seeded runs, and bad input is named."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from shipit.analysis.pipeline import analyze
from shipit.analysis.shadow import bound_probabilities, ratio_estimate
from shipit.errors import DataError
from shipit.sim.shadow import ShadowSim, simulate_labels, simulate_scores
from shipit.spec import Experiment
from shipit.store import EVENTS, DuckDBEngine
from shipit.store.shadow import ValueMoments
from shipit.store.tables import SHADOW

Z = stats.norm.ppf(0.975)


def _spec(output: str = "score", **shadow: Any) -> Experiment:
    block: dict[str, Any] = {"output": output, **shadow}
    return Experiment.model_validate(
        {
            "key": "shadowed",
            "type": "shadow",
            "variants": [{"key": "prod", "weight": 1.0}, {"key": "cand", "weight": 0.0}],
            "shadow": block,
        }
    )


def _store(sim: ShadowSim, event: str = "label") -> DuckDBEngine:
    engine = DuckDBEngine()
    engine.append(SHADOW, sim.shadow_table("shadowed").to_batches())
    engine.append(EVENTS, sim.events_table(event).to_batches())
    return engine


# --- the oracle: pandas on the raw rows ------------------------------------------------


def _ratio(units: pd.Series, values: pd.Series) -> tuple[float, float]:
    """Mean over requests and its delta-method standard error over units, by hand."""
    frame = pd.DataFrame({"u": units, "v": values}).dropna()
    g = frame.groupby("u")["v"].agg(["sum", "count"])
    s, c = g["sum"].to_numpy(float), g["count"].to_numpy(float)
    n = len(s)
    r = s.sum() / c.sum()
    var = np.sum((s - r * c) ** 2) / (n - 1) / n / c.mean() ** 2
    return r, float(np.sqrt(var))


def _quantile_ci(units: pd.Series, x: pd.Series, q: float) -> tuple[float, float, float]:
    """Sample quantile and its interval: quantiles at q ∓ z·σ, σ the clustered SE of F̂."""
    frame = pd.DataFrame({"u": units, "x": x}).dropna()
    qhat = float(np.quantile(frame["x"], q))
    _, sigma = _ratio(frame["u"], (frame["x"] <= qhat).astype(float))
    lo, hi = np.clip([q - Z * sigma, q + Z * sigma], 0, 1)
    return qhat, float(np.quantile(frame["x"], lo)), float(np.quantile(frame["x"], hi))


def _raw_scores(sim: ShadowSim) -> pd.DataFrame:
    df = pd.DataFrame(sim.rows)
    labels = pd.DataFrame({"request_id": sim.labels["request_id"], "y": sim.labels["y"]})
    return df.merge(labels, on="request_id", how="left")


def test_score_numbers_equal_pandas_on_the_raw_rows() -> None:
    sim = simulate_scores(3, units=400, labelled=0.7)
    # Some requests lack the candidate's output or its latency.
    sim.rows["candidate_score"][::17] = np.nan
    sim.rows["candidate_ms"][::13] = np.nan
    exp = _spec(tolerance=0.02, label={"event": "label"}, histogram_bins=10)
    engine = _store(sim)
    # NaN outputs are stored as missing (null), as the API stores an absent output.
    engine.execute(
        "UPDATE shadow_predictions SET candidate_score = NULL WHERE isnan(candidate_score)"
    )
    engine.execute("UPDATE shadow_predictions SET candidate_ms = NULL WHERE isnan(candidate_ms)")
    r = analyze(exp, engine).shadow
    assert r is not None
    df = _raw_scores(sim)
    both = df["candidate_score"].notna()
    d = (df["candidate_score"] - df["production_score"])[both]
    agree = (d.abs() <= 0.02).astype(float)
    est, se = _ratio(df["unit_id"][both], agree)
    assert r.requests == len(df)
    assert r.paired == int(both.sum())
    assert r.labelled == int(df["y"].notna().sum())
    assert r.agreement.estimate == pytest.approx(est, abs=1e-9)
    assert r.agreement.se == pytest.approx(se, abs=1e-9)
    assert r.agreement.ci_low == pytest.approx(est - Z * se, abs=1e-9)
    assert r.difference is not None
    mean, mean_se = _ratio(df["unit_id"][both], d)
    assert r.difference.mean.estimate == pytest.approx(mean, abs=1e-9)
    assert r.difference.mean.se == pytest.approx(mean_se, abs=1e-9)
    qs = [q.q for q in r.difference.quantiles]
    assert [q.estimate for q in r.difference.quantiles] == pytest.approx(
        np.quantile(d, qs), abs=1e-9
    )
    counts, edges = np.histogram(d, bins=10)
    assert list(r.difference.counts) == counts.tolist()
    assert list(r.difference.edges) == pytest.approx(edges, abs=1e-9)
    for lat, column in zip(r.latency, ("production_ms", "candidate_ms"), strict=True):
        assert lat.requests == int(df[column].notna().sum())
        for q in lat.quantiles:
            assert (q.estimate, q.ci_low, q.ci_high) == pytest.approx(
                _quantile_ci(df["unit_id"], df[column], q.q), abs=1e-9
            )
    y = df["y"]
    losses = {
        "accuracy": lambda s: ((s >= 0.5) == (y >= 0.5)).astype(float).where(s.notna() & y.notna()),
        "mse": lambda s: (s - y) ** 2,
        "log_loss": lambda s: (
            -(y * np.log(s.clip(1e-15, 1 - 1e-15)) + (1 - y) * np.log(1 - s.clip(1e-15, 1 - 1e-15)))
        ),
    }
    assert [m.metric for m in r.offline] == ["accuracy", "mse", "log_loss"]
    for m in r.offline:
        prod = losses[m.metric](df["production_score"])
        cand = losses[m.metric](df["candidate_score"])
        for got, values in ((m.production, prod), (m.candidate, cand), (m.difference, cand - prod)):
            want, want_se = _ratio(df["unit_id"], values)
            assert got.estimate == pytest.approx(want, abs=1e-9), (m.metric, got, want)
            assert got.se == pytest.approx(want_se, abs=1e-9), m.metric
        d_est, d_se = _ratio(df["unit_id"], cand - prod)
        assert m.p_value == pytest.approx(2 * stats.norm.sf(abs(d_est / d_se)), abs=1e-9)


def test_label_numbers_equal_pandas_and_the_disagreements() -> None:
    sim = simulate_labels(5, units=300)
    exp = _spec("label", label={"event": "label", "property": "label"})
    r = analyze(exp, _store(sim)).shadow
    assert r is not None
    df = pd.DataFrame(sim.rows).assign(y=sim.labels["y"])
    agree = (df["production_label"] == df["candidate_label"]).astype(float)
    est, se = _ratio(df["unit_id"], agree)
    assert (r.agreement.estimate, r.agreement.se) == pytest.approx((est, se), abs=1e-9)
    assert r.difference is None
    (acc,) = r.offline
    cand = (df["candidate_label"] == df["y"]).astype(float)
    prod = (df["production_label"] == df["y"]).astype(float)
    assert acc.candidate.estimate == pytest.approx(cand.mean(), abs=1e-9)
    assert acc.difference.estimate == pytest.approx((cand - prod).mean(), abs=1e-9)
    pairs = (
        df[df["production_label"] != df["candidate_label"]]
        .groupby(["production_label", "candidate_label"])
        .size()
        .sort_values(ascending=False)
    )
    top = r.disagreements[0]
    assert top.requests == int(pairs.iloc[0])
    assert sum(x.requests for x in r.disagreements) == int(pairs.nlargest(10).sum())


def test_ranking_overlap_and_hit_rate_equal_python() -> None:
    rng = np.random.default_rng(2)
    items = [f"i{k}" for k in range(8)]
    n = 600
    prod = [list(rng.permutation(items)[:5]) for _ in range(n)]
    cand = [p if rng.random() < 0.6 else list(rng.permutation(items)[:5]) for p in prod]
    y = [str(rng.choice(items)) for _ in range(n)]
    units = np.array([f"u{i % 150}" for i in range(n)], dtype=object)
    rows = {
        "unit_id": units,
        "request_id": np.array([f"r{i}" for i in range(n)], dtype=object),
        "production_label": np.array([json.dumps(p) for p in prod], dtype=object),
        "candidate_label": np.array([json.dumps(c) for c in cand], dtype=object),
    }
    sim = ShadowSim(
        rows, {"unit_id": units, "request_id": rows["request_id"], "y": np.array(y, dtype=object)}
    )
    exp = _spec("ranking", top_k=3, min_overlap=0.6, label={"event": "label", "property": "label"})
    r = analyze(exp, _store(sim)).shadow
    assert r is not None
    overlap = [len(set(p[:3]) & set(c[:3])) / 3 for p, c in zip(prod, cand, strict=True)]
    agree = [float(o >= 0.6 - 1e-12) for o in overlap]
    assert r.agreement.estimate == pytest.approx(np.mean(agree), abs=1e-9)
    assert r.difference is not None
    assert r.difference.mean.estimate == pytest.approx(np.mean(overlap), abs=1e-9)
    (hit,) = r.offline
    assert hit.metric == "hit_rate"
    want = np.mean([float(t in c[:3]) for t, c in zip(y, cand, strict=True)])
    assert hit.candidate.estimate == pytest.approx(want, abs=1e-9)


# --- coverage of a known truth -----------------------------------------------------------


def _moments(units: np.ndarray, values: np.ndarray) -> ValueMoments:
    """The unit moments the engine returns, computed with numpy (in process)."""
    keep = ~np.isnan(values)
    codes, idx = np.unique(units[keep], return_inverse=True)
    s = np.bincount(idx, values[keep], minlength=len(codes))
    c = np.bincount(idx, minlength=len(codes)).astype(float)
    return ValueMoments("v", len(codes), s.sum(), c.sum(), s @ s, s @ c, c @ c)


def _covers(e: Any, truth: float) -> bool:
    return bool(e.ci_low <= truth <= e.ci_high)


def _quantile_covers(units: np.ndarray, x: np.ndarray, q: float, truth: float) -> bool:
    qhat = np.quantile(x, q)
    lo, hi = bound_probabilities(q, _moments(units, (x <= qhat).astype(float)), Z)
    return bool(np.quantile(x, lo) <= truth <= np.quantile(x, hi))


def test_score_intervals_cover_the_truth_over_seeded_runs() -> None:
    runs = 300
    hits: dict[str, int] = {}
    for seed in range(runs):
        sim = simulate_scores(seed, units=300, agree=0.85)
        rows, t, u = sim.rows, sim.truth, sim.rows["unit_id"]
        d = rows["candidate_score"] - rows["production_score"]
        y = sim.labels["y"]
        loss_p = (rows["production_score"] - y) ** 2
        loss_c = (rows["candidate_score"] - y) ** 2
        checks = {
            "agreement": _covers(
                ratio_estimate(_moments(u, (np.abs(d) <= 0.0) * 1.0), Z), t["agreement"]
            ),
            "difference": _covers(ratio_estimate(_moments(u, d), Z), t["mean_difference"]),
            "candidate_mse": _covers(ratio_estimate(_moments(u, loss_c), Z), t["candidate_mse"]),
            "paired_mse": _covers(ratio_estimate(_moments(u, loss_c - loss_p), Z), t["paired_mse"]),
            "production_p50": _quantile_covers(u, rows["production_ms"], 0.5, t["production_p0.5"]),
            "candidate_p95": _quantile_covers(u, rows["candidate_ms"], 0.95, t["candidate_p0.95"]),
        }
        for k, ok in checks.items():
            hits[k] = hits.get(k, 0) + ok
    coverage = {k: v / runs for k, v in hits.items()}
    # 95% intervals: 300 runs put the observed coverage within ±3.8% (3 binomial sd).
    print("COVERAGE", coverage)
    assert all(0.91 <= c <= 0.99 for c in coverage.values()), coverage


def test_label_intervals_cover_the_truth_over_seeded_runs() -> None:
    runs = 300
    hits = np.zeros(3)
    for seed in range(runs):
        sim = simulate_labels(1000 + seed, units=300)
        rows, t, u = sim.rows, sim.truth, sim.rows["unit_id"]
        y = sim.labels["y"]
        agree = (rows["production_label"] == rows["candidate_label"]).astype(float)
        right_c = (rows["candidate_label"] == y).astype(float)
        right_p = (rows["production_label"] == y).astype(float)
        hits += [
            _covers(ratio_estimate(_moments(u, agree), Z), t["agreement"]),
            _covers(ratio_estimate(_moments(u, right_c), Z), t["candidate_accuracy"]),
            _covers(ratio_estimate(_moments(u, right_c - right_p), Z), t["paired_accuracy"]),
        ]
    coverage = hits / runs
    print("COVERAGE", coverage)
    assert np.all((coverage >= 0.91) & (coverage <= 0.99)), coverage


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_through_the_store_the_truth_is_recovered(seed: int) -> None:
    sim = simulate_scores(100 + seed, units=1500, agree=0.9)
    exp = _spec(label={"event": "label"}, metrics=["mse"])
    r = analyze(exp, _store(sim)).shadow
    assert r is not None
    t = sim.truth
    assert _covers(r.agreement, t["agreement"])
    assert r.difference is not None
    assert _covers(r.difference.mean, t["mean_difference"])
    (mse,) = r.offline
    assert _covers(mse.production, t["production_mse"])
    assert _covers(mse.difference, t["paired_mse"])
    prod, cand = r.latency
    assert _covers(prod.quantiles[0], t["production_p0.5"])
    assert _covers(cand.quantiles[2], t["candidate_p0.99"])
    # The same numbers as in process, from the same rows.
    u = sim.rows["unit_id"]
    d = sim.rows["candidate_score"] - sim.rows["production_score"]
    inproc = ratio_estimate(_moments(u, d), Z)
    assert r.difference.mean.estimate == pytest.approx(inproc.estimate, abs=1e-12)
    assert r.difference.mean.se == pytest.approx(inproc.se, abs=1e-12)


# --- bad input ---------------------------------------------------------------------------


def test_an_empty_store_or_experiment_is_named() -> None:
    exp = _spec()
    with pytest.raises(DataError, match="no shadow predictions"):
        analyze(exp, DuckDBEngine())
    engine = _store(simulate_scores(0, units=10))
    other = exp.model_copy(update={"key": "other"})
    with pytest.raises(DataError, match="'other' has no shadow predictions"):
        analyze(other, engine)
    with pytest.raises(DataError, match="for phase 3"):
        analyze(exp, engine, phase=3)


def test_labels_without_the_request_property_leave_a_note() -> None:
    sim = simulate_scores(0, units=50)
    engine = DuckDBEngine()
    engine.append(SHADOW, sim.shadow_table("shadowed").to_batches())
    events = sim.events_table("label").drop_columns(["request_id"])
    engine.append(EVENTS, events.to_batches())
    a = analyze(_spec(label={"event": "label"}), engine)
    assert a.shadow is not None
    assert a.shadow.offline == ()
    assert any("no column 'request_id'" in n for n in a.notes)
