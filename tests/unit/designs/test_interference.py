"""Interference: ego-network clusters of a graph, the exposure analysis computed in the
engine (equal to the same regression on the raw rows, and to statsmodels' cluster
sandwich), and a spillover simulation whose direct and spillover effects it recovers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from shipit.analysis.interference import analyze_exposure
from shipit.analysis.pipeline import analyze
from shipit.assign.interference import ego_clusters
from shipit.assign.spec_designs import assign_design
from shipit.errors import InputError
from shipit.metrics.interference import edges_relation
from shipit.report.sections import build_report
from shipit.result.schema import from_json, to_json
from shipit.sim.spillover import SpilloverData, simulate_spillover, spillover_experiment
from shipit.spec.design import EgoClusterDesign
from shipit.stats.interference import fit_spillover
from shipit.stats.moments import Moments
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load


def _engine(data: SpilloverData, folder: Path) -> DuckDBEngine:
    """The store, with the edges as an engine table (as a warehouse would hold them)."""
    engine = DuckDBEngine(":memory:")
    load(engine, "exposures", data.exposures)
    load(engine, "events", data.events)
    path = folder / "edges.parquet"
    data.edges.to_parquet(path)
    engine.execute(f"CREATE OR REPLACE TABLE edges AS SELECT * FROM read_parquet('{path}')")
    return engine


def _rows(data: SpilloverData) -> pd.DataFrame:
    """Per unit: y, t, the share of treated neighbours and the ego cluster, from raw rows."""
    units = data.exposures.set_index("unit_id")
    t = (units["variant"] == "treatment").astype(float)
    e = data.edges
    both = pd.concat(
        [e, e.rename(columns={"unit_id": "neighbour_id", "neighbour_id": "unit_id"})]
    ).drop_duplicates()
    both = both[both.unit_id != both.neighbour_id]
    share = both.assign(t=t.loc[both.neighbour_id].to_numpy()).groupby("unit_id")["t"].mean()
    y = data.events.groupby("unit_id")["value"].sum()
    out = pd.DataFrame({"y": y, "t": t, "f": share, "cluster": units["ego_cluster"]})
    return out.dropna(subset=["f"])


def test_ego_clusters_are_egos_deterministic_and_cover_every_unit() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 300, 900), rng.integers(0, 300, 900)
    ids = np.array([f"u{i}" for i in range(320)])
    clusters = ego_clusters(ids[a], ids[b], salt="s", population=ids)
    assert set(clusters) == set(ids)
    links = {(x, y) for x, y in zip(ids[a], ids[b], strict=True)}
    links |= {(y, x) for x, y in links}
    for unit, centre in clusters.items():
        assert unit == centre or (unit, centre) in links  # a centre and its neighbours
        assert clusters[centre] == centre
    order = rng.permutation(a.size)  # the order of the edges does not matter
    assert ego_clusters(ids[b][order], ids[a][order], salt="s", population=ids) == clusters
    assert ego_clusters(ids[a], ids[b], salt="other", population=ids) != clusters
    assert clusters["u310"] == "u310"  # no edges: its own cluster


def test_assignment_follows_the_ego_clusters() -> None:
    exp = spillover_experiment()
    assert isinstance(exp.design, EgoClusterDesign)
    data = simulate_spillover(exp, seed=0, units=240)
    again = assign_design(
        exp, data.exposures["unit_id"], {"ego_cluster": data.exposures["ego_cluster"]}
    )
    assert list(again) == list(data.exposures["variant"])
    assert data.exposures.groupby("ego_cluster")["variant"].nunique().max() == 1


def test_fit_matches_statsmodels_cluster_sandwich() -> None:
    data = simulate_spillover(spillover_experiment(), seed=5, units=600)
    rows = _rows(data)
    x = sm.add_constant(rows[["t", "f"]].to_numpy())
    groups = pd.factorize(rows["cluster"])[0]
    ref = sm.OLS(rows["y"].to_numpy(), x).fit(
        cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False}
    )
    g = len(np.unique(groups))
    # The moments of w over clusters, built here from the raw rows.
    terms = [rows.y, rows.t * rows.y, rows.f * rows.y, rows.y * 0 + 1, rows.t, rows.f,
             rows.t * rows.t, rows.t * rows.f, rows.f * rows.f]  # fmt: skip
    w = pd.concat(terms, axis=1).groupby(rows["cluster"]).sum().to_numpy()
    moments = Moments.from_arrays(np.zeros(g, dtype=str), {f"w{i}": w[:, i] for i in range(9)})
    fit = fit_spillover(moments)
    assert fit.direct.estimate == pytest.approx(ref.params[1], rel=1e-9)
    assert fit.spillover.estimate == pytest.approx(ref.params[2], rel=1e-9)
    correction = np.sqrt(g / (g - 1))
    assert fit.direct.se == pytest.approx(ref.bse[1] * correction, rel=1e-9)
    assert fit.spillover.se == pytest.approx(ref.bse[2] * correction, rel=1e-9)
    cov = ref.cov_params() * g / (g - 1)
    assert fit.total.se == pytest.approx(np.sqrt(cov[1, 1] + cov[2, 2] + 2 * cov[1, 2]), rel=1e-9)


def test_engine_exposure_analysis_equals_the_raw_rows(tmp_path: Path) -> None:
    data = simulate_spillover(spillover_experiment(), seed=7, units=600)
    engine = _engine(data, tmp_path)
    exp = spillover_experiment(edges=str(tmp_path / "edges.parquet"))  # read from the file
    got = analyze_exposure(engine, exp)
    rows = _rows(data)
    x = sm.add_constant(rows[["t", "f"]].to_numpy())
    ref = sm.OLS(rows["y"].to_numpy(), x).fit()
    assert got.direct.estimate == pytest.approx(ref.params[1], rel=1e-9)
    assert got.spillover.estimate == pytest.approx(ref.params[2], rel=1e-9)
    assert got.units_with_neighbours == len(rows)
    treated = rows[(rows.t == 1) & (rows.f >= 0.75)]
    control = rows[(rows.t == 0) & (rows.f <= 0.25)]
    assert got.units_mostly_treated == len(treated)
    assert got.contrast.estimate == pytest.approx(treated.y.mean() - control.y.mean(), rel=1e-9)
    assert got.treated_share_mostly_control == pytest.approx(control.f.mean(), rel=1e-9)
    # The table form and the file form agree.
    table = analyze_exposure(engine, spillover_experiment(edges="engine:edges"))
    for name in ("direct", "spillover", "total", "contrast"):
        a, b = getattr(table, name), getattr(got, name)
        assert a.estimate == pytest.approx(b.estimate, rel=1e-9)
        assert a.se == pytest.approx(b.se, rel=1e-9)


@pytest.mark.slow
def test_spillover_simulation_is_recovered_over_seeded_runs(tmp_path: Path) -> None:
    exp = spillover_experiment()
    runs = 30
    direct = spill = contrast = 0
    estimates = []
    for seed in range(runs):
        data = simulate_spillover(exp, seed=100 + seed, units=600)
        got = analyze_exposure(_engine(data, tmp_path), exp)
        d, s, c = got.direct, got.spillover, got.contrast
        assert d.ci_low is not None
        assert d.ci_high is not None
        assert s.ci_low is not None
        assert s.ci_high is not None
        direct += int(d.ci_low <= data.direct <= d.ci_high)
        spill += int(s.ci_low <= data.spillover <= s.ci_high)
        shares = (got.treated_share_mostly_treated or 0.0) - (
            got.treated_share_mostly_control or 0.0
        )
        truth = data.direct + data.spillover * shares
        assert c.ci_low is not None
        assert c.ci_high is not None
        contrast += int(c.ci_low <= truth <= c.ci_high)
        estimates.append((d.estimate, s.estimate))
    # 95% intervals: 28.5 of 30 expected; at least 25 holds with probability > 0.98.
    assert direct >= 25
    assert spill >= 25
    assert contrast >= 25
    mean = np.mean(np.array(estimates, dtype=float), axis=0)
    assert mean[0] == pytest.approx(1.0, abs=0.1)
    assert mean[1] == pytest.approx(0.8, abs=0.15)


def test_analyze_reports_the_exposure_analysis(tmp_path: Path) -> None:
    exp = spillover_experiment()
    data = simulate_spillover(exp, seed=2, units=600)
    a = analyze(exp, _engine(data, tmp_path), daily=False)
    assert a.design is not None
    assert a.design.kind == "ego_cluster"
    assert a.design.exposure is not None
    assert a.design.clusters is not None
    assert sum(a.design.clusters.values()) == data.exposures["ego_cluster"].nunique()
    assert from_json(to_json(a)) == a
    section = build_report(a).section("design")
    assert section is not None
    labels = [i.label for i in section.items]
    assert "spillover effect" in labels
    assert "mostly treated vs mostly control" in labels


def test_edges_must_be_a_table_or_a_known_file() -> None:
    assert edges_relation("engine:graph") == '"graph"'
    assert edges_relation("g.csv").startswith("read_csv_auto(")
    with pytest.raises(InputError, match=r"design\.edges"):
        edges_relation("graph.json")


def test_three_variants_keep_the_cluster_effects_and_say_why_no_exposure(tmp_path: Path) -> None:
    exp = spillover_experiment()
    three = [{"key": "control", "weight": 0.4}, {"key": "a", "weight": 0.3},
             {"key": "b", "weight": 0.3}]  # fmt: skip
    exp = exp.model_validate({**exp.model_dump(exclude_defaults=True), "variants": three})
    data = simulate_spillover(exp, seed=4, units=300)
    a = analyze(exp, _engine(data, tmp_path), daily=False)
    assert a.design is not None
    assert a.design.exposure is None
    assert any("no exposure analysis" in n and "one treatment" in n for n in a.design.notes)
    assert a.design.clusters is not None
    assert set(a.design.clusters) == {"control", "a", "b"}
