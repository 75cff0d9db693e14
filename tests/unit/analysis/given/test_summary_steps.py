"""The CUPED and Bayesian keys of ``shipit stats`` equal the library called directly."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from shipit.analysis.given import run_stats
from shipit.cli.main import app
from shipit.errors import InputError
from shipit.stats.bayesian import NormalPrior, compare_normal
from shipit.stats.beta_binomial import BetaPrior, compare_beta
from shipit.stats.cuped import compare_cuped
from shipit.stats.estimands import summarize
from shipit.stats.moments import Moments

CUPED_KEYS = {
    "theta",
    "variance_reduction",
    "mean_control",
    "mean_variant",
    "abs_effect",
    "abs_ci_low",
    "abs_ci_high",
    "rel_effect",
    "rel_ci_low",
    "rel_ci_high",
    "p_value",
}
BAYES_KEYS = {
    "prob_better",
    "expected_loss_variant",
    "expected_loss_control",
    "cred_low",
    "cred_high",
}


def _sums(rng: np.random.Generator, n: int, lift: float, k: int) -> tuple[dict[str, Any], Moments]:
    x = rng.gamma(2.0, 3.0, (n, k))
    y = x @ np.linspace(1.0, 0.2, k) * (1 + lift) + rng.normal(0, 3.0, n)
    raw = {
        "n": n,
        "sum": float(y.sum()),
        "sum_sq": float(y @ y),
        "cov_sums": x.sum(axis=0).tolist(),
        "cov_sq": (x.T @ x).tolist(),
        "cov_y": (x.T @ y).tolist(),
    }
    cols = {"y": y, **{f"x{j + 1}": x[:, j] for j in range(k)}}
    return raw, Moments.from_arrays(np.zeros(n, dtype=int), cols, labels=["0"])


@pytest.fixture
def request_data() -> tuple[dict[str, Any], dict[str, Moments]]:
    rng = np.random.default_rng(42)
    variants, moments = {}, {}
    for name, lift in (("control", 0.0), ("b", 0.03), ("c", 0.01)):
        variants[name], moments[name] = _sums(rng, 3000, lift, 2)
    data = {
        "metrics": [
            {"name": "revenue", "kind": "mean", "variants": variants},
            {
                "name": "conversion",
                "kind": "proportion",
                "variants": {
                    "control": {"n": 3000, "sum": 300},
                    "b": {"n": 3000, "sum": 345},
                    "c": {"n": 3000, "sum": 310},
                },
            },
        ]
    }
    return data, moments


def test_covariates_add_the_cuped_block(request_data: Any) -> None:
    data, moments = request_data
    out = run_stats(data)
    rev = [r for r in out["results"] if r["metric"] == "revenue"]
    assert all(set(r["cuped"]) >= CUPED_KEYS for r in rev)
    assert all("cuped" not in r for r in out["results"] if r["metric"] == "conversion")
    ref = compare_cuped(moments["control"], moments["b"].rename(["0"]), "mean")
    block = rev[0]["cuped"]
    np.testing.assert_allclose(block["theta"], ref.adjustment.theta[0], rtol=1e-9)
    assert block["variance_reduction"] == pytest.approx(ref.adjustment.variance_reduction[0])
    for key in CUPED_KEYS - {"theta", "variance_reduction"}:
        assert block[key] == pytest.approx(getattr(ref.adjusted, key)[0], rel=1e-9), key
    # the raw keys are still the unadjusted ones, side by side
    assert rev[0]["abs_effect"] == pytest.approx(ref.raw.abs_effect[0], rel=1e-12)


def test_bayesian_method_adds_posterior_keys(request_data: Any) -> None:
    data, moments = request_data
    data = copy.deepcopy(data)
    data["method"] = "bayesian"
    data["metrics"][0]["prior"] = {"kind": "normal", "mean": 0, "sd": 0.3, "scale": "relative"}
    data["metrics"][1]["prior"] = {"kind": "beta", "a": 2, "b": 20}
    out = run_stats(data)
    for r in out["results"]:
        assert set(r) >= BAYES_KEYS
    conv = next(r for r in out["results"] if r["metric"] == "conversion" and r["variant"] == "b")
    ref = compare_beta([300], [3000], [345], [3000], prior=BetaPrior(2, 20))
    assert conv["prob_better"] == pytest.approx(ref.prob_better[0], abs=1e-12)
    assert conv["expected_loss_variant"] == pytest.approx(ref.expected_loss_variant[0])
    assert conv["cred_low"] == pytest.approx(ref.rel_cred_low[0])
    rev = next(r for r in out["results"] if r["metric"] == "revenue" and r["variant"] == "b")
    adj = compare_cuped(moments["control"], moments["b"].rename(["0"]), "mean").adjustment
    ref_n = compare_normal(
        adj.control, adj.variant, prior=NormalPrior(0.0, 0.3, "relative"), effect=adj.relative
    )
    assert rev["prob_better"] == pytest.approx(ref_n.prob_better[0], rel=1e-12)
    assert rev["cred_high"] == pytest.approx(ref_n.cred_high[0], rel=1e-12)
    assert rev["ship_reason"] in {
        "ship",
        "prob_better_below_threshold",
        "expected_loss_above_tolerance",
        "prob_and_loss_failed",
    }
    metrics = {m["metric"]: m for m in out["metrics"]}
    assert metrics["conversion"]["prior"] == {"kind": "beta", "a": 2.0, "b": 20.0}
    best = metrics["revenue"]["prob_best"]
    assert set(best) == {"control", "b", "c"}
    assert sum(best.values()) == pytest.approx(1.0)
    assert set(metrics["conversion"]["expected_loss_vs_best"]) == {"control", "b", "c"}


def test_bayesian_normal_model_without_covariates_uses_raw_estimates() -> None:
    data = {
        "method": "bayesian",
        "metrics": [
            {
                "name": "revenue",
                "kind": "mean",
                "variants": {
                    "control": {"n": 10000, "sum": 85000.0, "sum_sq": 3.1e6},
                    "treatment": {"n": 10120, "sum": 88000.0, "sum_sq": 3.3e6},
                },
            }
        ],
    }
    out = run_stats(data)
    r = out["results"][0]
    m = Moments.from_sums(
        ["c", "t"], ["y"], [10000, 10120], [[85000.0], [88000.0]], [[[3.1e6]], [[3.3e6]]]
    )
    ref = compare_normal(summarize(m.take([0]), "mean"), summarize(m.take([1]), "mean"))
    assert r["prob_better"] == pytest.approx(ref.prob_better[0], rel=1e-12)
    assert "prob_best" not in out["metrics"][0]


@pytest.mark.parametrize(
    ("prior", "message"),
    [
        ({"kind": "gamma"}, "expected 'beta' or 'normal'"),
        ({"kind": "normal", "sd": -1}, "sd"),
        ({"kind": "beta", "a": 0}, "Beta prior"),
        ("flat", "must be an object"),
    ],
)
def test_bad_priors_name_metric_and_field(request_data: Any, prior: Any, message: str) -> None:
    data, _ = request_data
    data = copy.deepcopy(data)
    data["method"] = "bayesian"
    data["metrics"][1]["prior"] = prior
    with pytest.raises(InputError, match=message) as info:
        run_stats(data)
    assert "metric 'conversion': field 'prior'" in str(info.value)


def test_beta_prior_on_a_mean_metric_is_refused(request_data: Any) -> None:
    data, _ = request_data
    data = copy.deepcopy(data)
    data["method"] = "bayesian"
    data["metrics"][0]["prior"] = {"kind": "beta", "a": 1, "b": 1}
    with pytest.raises(InputError, match="proportions without covariates"):
        run_stats(data)


def test_cli_prints_the_bayesian_and_cuped_keys(request_data: Any, tmp_path: Path) -> None:
    data, _ = request_data
    path = tmp_path / "in.json"
    path.write_text(json.dumps({**data, "method": "bayesian"}))
    result = CliRunner().invoke(app, ["stats", str(path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out == run_stats({**data, "method": "bayesian"})
    assert "cuped" in out["results"][0]
    assert set(out["results"][0]) >= BAYES_KEYS


def test_collinear_covariates_and_empty_groups_do_not_raise() -> None:
    rng = np.random.default_rng(8)

    def variant(n: int) -> dict[str, Any]:
        x = rng.gamma(2.0, 3.0, n)
        y = x + rng.normal(0.0, 3.0, n)
        xs = np.column_stack([x, 2.0 * x + 1.0])
        return {
            "n": n,
            "sum": float(y.sum()),
            "sum_sq": float(y @ y),
            "cov_sums": xs.sum(axis=0).tolist(),
            "cov_sq": (xs.T @ xs).tolist(),
            "cov_y": (xs.T @ y).tolist(),
        }

    data = {
        "method": "bayesian",
        "metrics": [
            {"name": "m", "kind": "mean", "variants": {"a": variant(400), "b": variant(400)}},
            {
                "name": "p",
                "kind": "proportion",
                "variants": {"a": {"n": 0, "sum": 0}, "b": {"n": 10, "sum": 3}},
            },
        ],
    }
    out = run_stats(data)
    block = out["results"][0]["cuped"]
    assert block["covariates_used"] == [True, False]
    assert block["adjustment_status"] == "reduced_covariates"
    assert block["theta"][1] == 0.0
    empty = out["results"][1]
    assert empty["status"] == "too_few_units"
    # with no control units the control posterior is the prior, Beta(1, 1)
    ref = compare_beta([0], [0], [3], [10])
    assert empty["prob_better"] == pytest.approx(ref.prob_better[0])
