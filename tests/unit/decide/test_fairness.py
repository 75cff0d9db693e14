"""Fairness checks: one group harmed while the pooled effect is positive fails; none passes.

Simulated experiments in a DuckDB store, analysed end to end; the check's numbers are
compared with closed forms and statsmodels' meta-analysis Q on the per-group effects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from statsmodels.stats.meta_analysis import combine_effects

from shipit.analysis import analyze
from shipit.spec.experiment import Experiment, Variant
from shipit.spec.metric import MetricDef
from shipit.spec.plan import AnalysisPlan
from shipit.stats.fairness import group_fairness
from shipit.store.duckdb import DuckDBEngine
from shipit.store.loaders import load

T0 = pd.Timestamp("2024-03-01")
GROUPS = ("a", "b", "c")


def _engine(lift: dict[str, float], seed: int, n: int = 30_000) -> DuckDBEngine:
    """Conversion 20% in the control; the treatment adds ``lift[group]`` (absolute)."""
    rng = np.random.default_rng(seed)
    units = np.array([f"u{i}" for i in range(n)])
    variant = rng.choice(["control", "treatment"], n)
    group = rng.choice(GROUPS, n)
    p = 0.2 + np.where(variant == "treatment", pd.Series(group).map(lift).to_numpy(), 0.0)
    converted = rng.random(n) < p
    exposures = pd.DataFrame(
        {
            "experiment": "fair",
            "phase": 1,
            "unit_id": units,
            "variant": variant,
            "timestamp": T0,
            "age_band": group,
        }
    )
    events = pd.DataFrame(
        {
            "event_id": units[converted],
            "unit_id": units[converted],
            "event": "convert",
            "timestamp": T0 + pd.Timedelta(hours=1),
            "value": 1.0,
        }
    )
    e = DuckDBEngine(":memory:")
    load(e, "exposures", exposures)
    load(e, "events", events)
    return e


def _spec() -> Experiment:
    return Experiment(
        key="fair",
        variants=(Variant(key="control", weight=0.5), Variant(key="treatment", weight=0.5)),
        metrics=(MetricDef(name="converted", event="convert", aggregation="any"),),
        primary_metric="converted",
        analysis=AnalysisPlan(fairness=("age_band",), cuped=False),
    )


def test_a_harmed_group_fails_the_check() -> None:
    a = analyze(_spec(), _engine({"a": 0.05, "b": 0.05, "c": -0.04}, seed=1), daily=False)
    check = next(t for t in a.trust if t.name == "fairness_age_band")
    assert check.status == "fail"
    assert "c harmed" in check.message
    assert check.details["lowest"] == "c"
    assert a.verdict.decision != "ship"


def test_no_harmed_group_passes() -> None:
    a = analyze(_spec(), _engine({"a": 0.03, "b": 0.03, "c": 0.03}, seed=2), daily=False)
    check = next(t for t in a.trust if t.name == "fairness_age_band")
    assert check.status == "pass"
    # The numbers: the largest difference is highest − lowest of the per-group effects.
    eff = {g: check.details[f"effect[{g}]"] for g in GROUPS}
    hi, lo = check.details["highest"], check.details["lowest"]
    assert check.details["max_difference"] == pytest.approx(eff[hi] - eff[lo], rel=1e-12)  # type: ignore[operator,index]


def test_group_fairness_against_closed_forms_and_statsmodels() -> None:
    est = np.array([0.05, 0.02, -0.03, 0.01])
    se = np.array([0.01, 0.015, 0.012, 0.02])
    r = group_fairness(est, se, alpha=0.05)
    ref = combine_effects(est, se**2)
    assert r.q == pytest.approx(float(ref.q), rel=1e-12)
    assert r.df == 3
    z = norm.ppf(0.975)
    d_se = np.hypot(0.01, 0.012)
    assert r.difference == pytest.approx(0.08)
    assert r.difference_ci == pytest.approx((0.08 - z * d_se, 0.08 + z * d_se))
    log_se = np.hypot(0.01 / 1.05, 0.012 / 0.97)
    assert r.ratio == pytest.approx(1.05 / 0.97)
    assert r.ratio_ci[0] == pytest.approx(1.05 / 0.97 * np.exp(-z * log_se))
    np.testing.assert_allclose(r.p_harm, norm.cdf(est / se), rtol=1e-12)
    lower = group_fairness(est, se, higher_is_better=False)
    np.testing.assert_allclose(lower.p_harm, norm.sf(est / se), rtol=1e-12)


def test_the_report_has_a_fairness_section() -> None:
    from shipit.report.sections import build_report

    a = analyze(_spec(), _engine({"a": 0.05, "b": 0.05, "c": -0.04}, seed=1), daily=False)
    section = build_report(a).section("fairness")
    assert section is not None
    assert [row[0] for row in section.tables[0].rows] == [
        f"age_band={g} (treatment)" for g in GROUPS
    ]
    assert "fairness_age_band [fail]" in section.notes[0]

    from shipit.report.analysis_terminal import to_text
    from shipit.report.html import render_html
    from shipit.report.markdown import render_markdown

    assert "Fairness" in render_markdown(a)
    assert "Fairness" in render_html(a)
    assert "Fairness" in to_text(a)
