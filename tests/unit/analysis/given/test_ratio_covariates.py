"""Ratio metrics with covariates through the ``shipit stats`` contract (cov_num, cov_den).

The cuped block must equal the library on the same raw rows, and an independent
computation: WLS of each unit's delta-method linearization on the covariates with group
dummies (statsmodels; weights 1/(n_g(n_g − 1)), the variance-minimising θ), the adjusted
ratio R_g − θ·(x̄_g − x̄), and its variance: the group-heteroscedastic sandwich of that
regression, each group's σ̂² on its residual degrees of freedom.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from shipit.analysis.given import run_stats
from shipit.errors import InputError
from shipit.stats.cuped import compare_cuped
from shipit.stats.moments import Moments


def _rows(seed: int, lift: float = 0.04) -> dict[str, dict[str, np.ndarray]]:
    """Clicks per session with pre-period clicks and sessions per unit, by variant."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, n, effect in (("control", 3000, 0.0), ("treatment", 3100, lift)):
        # each unit keeps its activity and click rate across periods
        activity = rng.gamma(2.0, 1.0, n)
        rate = rng.beta(2.0, 14.0, n)
        pre_den = rng.poisson(3.0 * activity) + 1.0
        pre_num = rng.binomial(pre_den.astype(int), rate).astype(float)
        den = rng.poisson(3.0 * activity) + 1.0
        num = rng.binomial(den.astype(int), np.clip(rate * (1 + effect), 0, 1)).astype(float)
        out[name] = {"num": num, "den": den, "x1": pre_num, "x2": pre_den}
    return out


def _sums(r: dict[str, np.ndarray]) -> dict[str, Any]:
    x = np.column_stack([r["x1"], r["x2"]])
    num, den = r["num"], r["den"]
    return {
        "n": int(num.size),
        "num_sum": float(num.sum()),
        "num_sum_sq": float(num @ num),
        "den_sum": float(den.sum()),
        "den_sum_sq": float(den @ den),
        "num_den_sum": float(num @ den),
        "cov_sums": x.sum(0).tolist(),
        "cov_sq": (x.T @ x).tolist(),
        "cov_num": (x.T @ num).tolist(),
        "cov_den": (x.T @ den).tolist(),
    }


def _request(rows: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    variants = {name: _sums(r) for name, r in rows.items()}
    return {"metrics": [{"name": "ctr", "kind": "ratio", "variants": variants}]}


def test_ratio_cuped_block_equals_the_library_on_raw_rows() -> None:
    rows = _rows(3)
    res = run_stats(_request(rows))["results"][0]
    labels = np.concatenate([np.full(r["num"].size, name) for name, r in rows.items()])
    cols = {k: np.concatenate([r[k] for r in rows.values()]) for k in ("num", "den", "x1", "x2")}
    m = Moments.from_arrays(labels, cols, labels=list(rows))
    lib = compare_cuped(m.take([0]), m.take([1]), "ratio")
    block = res["cuped"]
    assert block["theta"] == pytest.approx(list(lib.adjustment.theta[0]), rel=1e-9)
    for key in ("abs_effect", "abs_ci_low", "abs_ci_high", "rel_effect", "p_value"):
        assert block[key] == pytest.approx(float(getattr(lib.adjusted, key)[0]), rel=1e-9)
    assert block["variance_reduction"] == pytest.approx(lib.adjustment.variance_reduction[0])


def test_ratio_cuped_matches_an_independent_regression_on_raw_rows() -> None:
    rows = _rows(5)
    res = run_stats(_request(rows))["results"][0]
    block = res["cuped"]
    x_all = np.vstack([np.column_stack([r["x1"], r["x2"]]) for r in rows.values()])
    # each unit's delta-method linearization of its group's ratio
    lin, dummies, ratios = [], [], []
    for g, r in enumerate(rows.values()):
        ratio = r["num"].sum() / r["den"].sum()
        lin.append((r["num"] - ratio * r["den"]) / r["den"].mean())
        d = np.zeros((r["num"].size, 2))
        d[:, g] = 1.0
        dummies.append(d)
        ratios.append(ratio)
    ell = np.concatenate(lin)
    design = np.column_stack([np.vstack(dummies), x_all])
    group = np.argmax(design[:, :2], axis=1)
    sizes = np.bincount(group).astype(float)[group]
    w = 1.0 / (sizes * (sizes - 1.0))
    fit = sm.WLS(ell, design, weights=w).fit()
    theta = fit.params[2:]
    assert block["theta"] == pytest.approx(list(theta), rel=1e-8)
    means = [ratios[g] - theta @ (x_all[group == g].mean(0) - x_all.mean(0)) for g in (0, 1)]
    # residual dof per group: Σ_{i∈g} Σ_j (I − H)_ij² = Σ_{i∈g} 1 − 2h_ii + (H Hᵀ)_ii
    bread = np.linalg.inv(design.T @ (w[:, None] * design))
    h = np.einsum("ip,pq,iq->i", design, bread, design) * w
    hh = np.einsum(
        "ip,pq,iq->i", design, bread @ (design.T @ (w[:, None] ** 2 * design)) @ bread, design
    )
    nu = np.bincount(group, 1.0 - 2.0 * h + hh)
    sigma2 = np.bincount(group, fit.resid**2) / nu
    meat = design.T @ ((w**2 * sigma2[group])[:, None] * design)
    contrast = np.r_[-1.0, 1.0, np.zeros(x_all.shape[1])]
    variance = contrast @ bread @ meat @ bread @ contrast
    assert block["mean_control"] == pytest.approx(means[0], rel=1e-10)
    assert block["mean_variant"] == pytest.approx(means[1], rel=1e-10)
    diff, se = means[1] - means[0], np.sqrt(variance)
    z = sps.norm.ppf(0.975)
    assert block["abs_effect"] == pytest.approx(diff, rel=1e-9)
    assert block["abs_ci_low"] == pytest.approx(diff - z * se, rel=1e-8)
    assert block["abs_ci_high"] == pytest.approx(diff + z * se, rel=1e-8)
    assert block["p_value"] == pytest.approx(2 * sps.norm.sf(abs(diff) / se), rel=1e-7)
    raw_var = sum(v.var(ddof=1) / v.size for v in lin)
    assert block["variance_reduction"] == pytest.approx(1 - variance / raw_var, rel=1e-8)
    assert block["variance_reduction"] > 0.05  # the pre-period carries signal here
    # the unadjusted keys stay those of the plain ratio comparison
    plain = copy.deepcopy(_request(rows))
    for v in plain["metrics"][0]["variants"].values():
        for key in ("cov_sums", "cov_sq", "cov_num", "cov_den"):
            del v[key]
    raw = run_stats(plain)["results"][0]
    assert res["abs_effect"] == pytest.approx(raw["abs_effect"], rel=1e-12)
    assert res["p_value"] == pytest.approx(raw["p_value"], rel=1e-12)


def test_ratio_covariates_feed_the_bayesian_normal_model() -> None:
    data = _request(_rows(7)) | {"method": "bayesian"}
    res = run_stats(data)["results"][0]
    assert res["bayes_model"] == "normal_cuped"
    assert res["cred_low"] == pytest.approx(res["cuped"]["rel_ci_low"], rel=1e-9)
    assert res["cred_high"] == pytest.approx(res["cuped"]["rel_ci_high"], rel=1e-9)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda v: v.pop("cov_den"), "'cov_den' is missing"),
        (lambda v: v.update(cov_y=[1.0, 2.0]), "'cov_y' does not apply to a ratio metric"),
        (lambda v: v.update(cov_num=[1.0]), "'cov_num' has 1 values, expected 2"),
        (lambda v: v.update(cov_den=[1.0, "a"]), "'cov_den' must be a finite number"),
        (lambda v: v.update(cov_num=[1e12, 1e12]), "correlation beyond"),
    ],
)
def test_bad_ratio_covariates_name_the_metric_variant_and_field(change: Any, message: str) -> None:
    data = _request(_rows(1))
    change(data["metrics"][0]["variants"]["treatment"])
    with pytest.raises(InputError, match=message) as err:
        run_stats(data)
    assert "metric 'ctr', variant 'treatment'" in str(err.value)


def test_mean_metrics_reject_ratio_cross_sums() -> None:
    data = {
        "metrics": [
            {
                "name": "rev",
                "kind": "mean",
                "variants": {
                    "a": {"n": 10, "sum": 5.0, "sum_sq": 9.0, "cov_num": [1.0]},
                    "b": {"n": 10, "sum": 6.0, "sum_sq": 9.0},
                },
            }
        ]
    }
    with pytest.raises(InputError, match="'cov_num' does not apply to a mean metric"):
        run_stats(data)
