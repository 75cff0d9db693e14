"""Public per-unit data sets analysed with one ``shipit analyze TABLE ...`` command and with
``shipit.analyze(df, ...)``, against scipy / statsmodels on the raw rows (1e-9).

Hillstrom's e-mail test (three variants, a mean with a pre-period covariate, a proportion,
a ratio, a segment), Cookie Cats (boolean retention, its known SRM at p ≈ 0.0086) and
Udacity's landing page (a proportion, its duplicated users). The data sets live beside the
project (``../shared/data/ab``); the tests skip where they are absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest
from typer.testing import CliRunner

import shipit
from shipit.cli.main import app

runner = CliRunner()
TOL = 1e-9


def _cli(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["analyze", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def _effect(analysis: dict[str, Any], metric: str, variant: str) -> dict[str, Any]:
    found = [e for e in analysis["effects"] if e["metric"] == metric and e["variant"] == variant]
    assert len(found) == 1, (metric, variant)
    return found[0]


def _check(name: str, value: float, expected: float) -> None:
    assert value == pytest.approx(expected, rel=TOL, abs=1e-12), name


def _welch(effect: dict[str, Any], y_c: np.ndarray, y_v: np.ndarray) -> None:
    """A mean metric: Welch's t test on the raw rows."""
    raw = effect["raw"]
    t = stats.ttest_ind(y_v, y_c, equal_var=False)
    _check("mean_control", effect["mean_control"], y_c.mean())
    _check("mean_variant", effect["mean_variant"], y_v.mean())
    _check("abs_effect", raw["abs_effect"], y_v.mean() - y_c.mean())
    _check("rel_effect", raw["rel_effect"], y_v.mean() / y_c.mean() - 1.0)
    _check("p_value", raw["p_value"], float(t.pvalue))
    low, high = t.confidence_interval(0.95)
    _check("abs_ci_low", raw["abs_ci_low"], float(low))
    _check("abs_ci_high", raw["abs_ci_high"], float(high))


def _proportion(effect: dict[str, Any], y_c: np.ndarray, y_v: np.ndarray) -> None:
    """A proportion: the pooled two-sample z test (statsmodels)."""
    raw = effect["raw"]
    assert effect["kind"] == "proportion"
    _, p = proportions_ztest([y_v.sum(), y_c.sum()], [y_v.size, y_c.size])
    _check("mean_control", effect["mean_control"], y_c.mean())
    _check("abs_effect", raw["abs_effect"], y_v.mean() - y_c.mean())
    _check("p_value", raw["p_value"], float(p))


def _ratio(effect: dict[str, Any], c: pd.DataFrame, v: pd.DataFrame, num: str, den: str) -> None:
    """A ratio: Σnum/Σden per variant, its variance by the delta method on the raw rows."""

    def delta(g: pd.DataFrame) -> tuple[float, float]:
        r = g[num].sum() / g[den].sum()
        cov = np.cov(g[num], g[den], ddof=1)
        var = (cov[0, 0] - 2 * r * cov[0, 1] + r**2 * cov[1, 1]) / g[den].mean() ** 2 / len(g)
        return float(r), float(var)

    (rc, vc), (rv, vv) = delta(c), delta(v)
    raw = effect["raw"]
    assert effect["kind"] == "ratio"
    _check("mean_control", effect["mean_control"], rc)
    _check("abs_effect", raw["abs_effect"], rv - rc)
    _check("abs_se", raw["abs_se"], np.sqrt(vc + vv))
    _check("p_value", raw["p_value"], 2 * stats.norm.sf(abs(rv - rc) / np.sqrt(vc + vv)))


def test_hillstrom_one_command_equals_scipy_and_statsmodels(shared_data: Path) -> None:
    path = shared_data / "ab" / "hillstrom.csv"
    df = pd.read_csv(path)
    args = ["--variant-column", "segment", "--control", "No E-Mail"]
    args += ["--metric", "spend", "--metric", "conversion", "--ratio", "spend/visit"]
    args += ["--covariate", "history", "--segment", "zip_code"]
    out = _cli(str(path), *args)
    assert out["control"] == "No E-Mail"
    assert out["units"] == df.groupby("segment").size().to_dict()
    c = df[df.segment == "No E-Mail"]
    for variant in ("Mens E-Mail", "Womens E-Mail"):
        v = df[df.segment == variant]
        _welch(_effect(out, "spend", variant), c.spend.to_numpy(), v.spend.to_numpy())
        conv = _effect(out, "conversion", variant)
        _proportion(conv, c.conversion.to_numpy(), v.conversion.to_numpy())
        _ratio(_effect(out, "spend_per_visit", variant), c, v, "spend", "visit")
        # CUPED: θ minimising the pooled variance is WLS with weights 1/(n_g(n_g − 1))
        both = pd.concat([c, v])
        n = np.where(both.segment == variant, len(v), len(c))
        design = np.column_stack(
            [both.segment != variant, both.segment == variant, both.history - both.history.mean()]
        ).astype(float)
        fit = sm.WLS(both.spend.to_numpy(), design, weights=1.0 / (n * (n - 1.0))).fit()
        adjusted = _effect(out, "spend", variant)["adjusted"]
        assert adjusted["abs_effect"] == pytest.approx(fit.params[1] - fit.params[0], rel=TOL)
    chi2 = stats.chisquare(df.groupby("segment").size().to_numpy())
    srm = next(t for t in out["trust"] if t["name"] == "srm")
    _check("srm p", srm["p_value"], float(chi2.pvalue))
    zips = {s["segment"] for s in out["segments"] if s["dimension"] == "zip_code"}
    assert zips == set(df.zip_code)
    notes = {t["name"]: t["message"] for t in out["trust"]}
    assert "not applicable (no timestamps)" in notes["novelty"]
    # the notebook API gives the same numbers
    api = shipit.analyze(
        df,
        variant="segment",
        control="No E-Mail",
        metrics=["spend", "conversion"],
        ratios=["spend/visit"],
        covariates=["history"],
        segments=["zip_code"],
    )
    for row in api.to_pandas().to_dict("records"):
        e = _effect(out, row["metric"], row["variant"])
        assert row["abs_effect"] == pytest.approx(e["adjusted"]["abs_effect"], rel=TOL)
        assert row["p_value"] == pytest.approx(e["adjusted"]["p_value"], rel=TOL)


def test_cookie_cats_srm_fails_at_one_percent(shared_data: Path) -> None:
    path = shared_data / "ab" / "cookie_cats.csv"
    df = pd.read_csv(path)
    args = ["--variant-column", "version", "--unit-column", "userid", "--srm-threshold", "0.01"]
    args += ["--metric", "retention_1", "--metric", "retention_7", "--metric", "sum_gamerounds"]
    out = _cli(str(path), *args)
    counts = df.groupby("version").size()
    srm = next(t for t in out["trust"] if t["name"] == "srm")
    _check("srm p", srm["p_value"], float(stats.chisquare(counts.to_numpy()).pvalue))
    assert srm["p_value"] == pytest.approx(0.0086, abs=1e-4)
    assert srm["status"] == "fail"
    assert out["verdict"]["decision"] == "halt"
    c, v = df[df.version == "gate_30"], df[df.version == "gate_40"]
    for col in ("retention_1", "retention_7"):
        y_c, y_v = c[col].astype(float).to_numpy(), v[col].astype(float).to_numpy()
        _proportion(_effect(out, col, "gate_40"), y_c, y_v)
    y_c, y_v = c.sum_gamerounds.to_numpy(float), v.sum_gamerounds.to_numpy(float)
    _welch(_effect(out, "sum_gamerounds", "gate_40"), y_c, y_v)
    # at the default threshold the same split passes
    default = _cli(str(path), "--variant-column", "version", "--metric", "retention_7")
    assert next(t for t in default["trust"] if t["name"] == "srm")["status"] == "pass"
    api = shipit.analyze(
        df, variant="version", metrics=["retention_7"], unit="userid", srm_threshold=0.01
    )
    assert api.verdict.decision == "halt"
    row = api.to_pandas().iloc[0]
    assert row["p_value"] == pytest.approx(_effect(out, "retention_7", "gate_40")["raw"]["p_value"])


def test_udacity_landing_page_with_its_duplicated_users(shared_data: Path) -> None:
    path = shared_data / "ab" / "udacity_ab_data.csv"
    df = pd.read_csv(path)
    out = _cli(
        str(path),
        "--variant-column",
        "group",
        "--unit-column",
        "user_id",
        "--metric",
        "converted",
        "--segment",
        "landing_page",
    )
    c, v = df[df.group == "control"], df[df.group == "treatment"]
    _proportion(
        _effect(out, "converted", "treatment"),
        c.converted.to_numpy(float),
        v.converted.to_numpy(float),
    )
    dup = next(t for t in out["trust"] if t["name"] == "duplicate_units")
    assert dup["statistic"] == len(df) - df.user_id.nunique()
    assert dup["status"] == "fail"  # 1.3% of the rows repeat a user
    api = shipit.analyze(df, variant="group", metrics="converted", unit="user_id")
    row = api.to_pandas().iloc[0]
    assert row["p_value"] == pytest.approx(_effect(out, "converted", "treatment")["raw"]["p_value"])
