"""The ``shipit stats`` contract as a library call: parsing, grouping, correction, SRM."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from shipit.analysis.given import compute as summary_module
from shipit.analysis.given import run_stats
from shipit.analysis.given.inputs import parse_stats_input
from shipit.analysis.given.model import StatsSummary
from shipit.errors import InputError
from shipit.stats import Moments, compare

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "stats_input.json"
REQUIRED = {
    "metric",
    "variant",
    "control",
    "n_control",
    "n_variant",
    "mean_control",
    "mean_variant",
    "abs_effect",
    "abs_ci_low",
    "abs_ci_high",
    "rel_effect",
    "rel_ci_low",
    "rel_ci_high",
    "p_value",
    "p_value_adjusted",
    "significant",
    "status",
}


@pytest.fixture
def example() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return data


def test_example_has_the_contract_keys_and_reference_numbers(example: dict[str, Any]) -> None:
    out = run_stats(example)
    assert set(out) >= {"srm", "results"}
    assert set(out["srm"]) >= {"chi2", "p_value", "mismatch"}
    ref = sps.chisquare([10000, 10120])
    assert out["srm"]["chi2"] == pytest.approx(ref.statistic, rel=1e-9)
    assert out["srm"]["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert out["srm"]["mismatch"] is False
    results = out["results"]
    assert [r["metric"] for r in results] == ["conversion", "revenue", "clicks_per_session"]
    for r in results:
        assert set(r) >= REQUIRED
        assert r["control"] == "control"
        assert r["variant"] == "treatment"
        assert r["status"] == "ok"
    _stat, p = proportions_ztest([620, 500], [10120, 10000])
    assert results[0]["p_value"] == pytest.approx(p, rel=1e-9)
    assert results[0]["n_control"] == 10000
    assert isinstance(results[0]["n_control"], int)
    mean_sd = [
        np.sqrt((sq - s**2 / n) / (n - 1))
        for n, s, sq in [(10000, 85000.0, 3.1e6), (10120, 88000.0, 3.3e6)]
    ]
    t = sps.ttest_ind_from_stats(
        88000 / 10120, mean_sd[1], 10120, 8.5, mean_sd[0], 10000, equal_var=False
    )
    assert results[1]["p_value"] == pytest.approx(t.pvalue, rel=1e-9)
    raw = [r["p_value"] for r in results]
    holm = multipletests(raw, method="holm")[1]
    for r, adj in zip(results, holm, strict=True):
        assert r["p_value_adjusted"] == pytest.approx(adj, rel=1e-12)
        assert r["significant"] is bool(adj < 0.05)


def test_grouped_vectorized_run_equals_one_compare_per_metric(rng: np.random.Generator) -> None:
    metrics = []
    for i in range(30):
        kind = ["proportion", "mean", "ratio"][i % 3]
        variants = {}
        for v in ("a", "b", "c"):
            n = int(rng.integers(100, 1000))
            if kind == "proportion":
                variants[v] = {"n": n, "sum": int(rng.binomial(n, 0.3))}
            elif kind == "mean":
                y = rng.normal(3, 1, n)
                variants[v] = {"n": n, "sum": float(y.sum()), "sum_sq": float((y**2).sum())}
            else:
                den = 1.0 + rng.poisson(2, n)
                num = rng.poisson(0.4 * den).astype(float)
                variants[v] = {
                    "n": n,
                    "num_sum": float(num.sum()),
                    "num_sum_sq": float((num**2).sum()),
                    "den_sum": float(den.sum()),
                    "den_sum_sq": float((den**2).sum()),
                    "num_den_sum": float((num * den).sum()),
                }
        metrics.append({"name": f"m{i}", "kind": kind, "variants": variants})
    data = {"correction": "bh", "control": "b", "metrics": metrics}
    out = run_stats(data)
    assert len(out["results"]) == 60
    parsed = parse_stats_input(data)
    p_values = []
    for m, (r1, r2) in zip(
        parsed.metrics, zip(out["results"][::2], out["results"][1::2], strict=True), strict=True
    ):
        cols = ["y"] if m.kind != "ratio" else ["num", "den"]
        mom: Moments = m.moments.select(cols)
        control = Moments.concat([mom["b"].rename(["1"]), mom["b"].rename(["2"])])
        ref = compare(control, mom[["a", "c"]], m.kind)
        assert (r1["variant"], r2["variant"]) == ("a", "c")
        assert r1["control"] == "b"
        np.testing.assert_allclose([r1["p_value"], r2["p_value"]], ref.p_value, rtol=1e-12)
        np.testing.assert_allclose([r1["rel_ci_low"], r2["rel_ci_low"]], ref.rel_ci_low, rtol=1e-12)
        p_values += list(ref.p_value)
    bh = multipletests(p_values, method="fdr_bh")[1]
    np.testing.assert_allclose([r["p_value_adjusted"] for r in out["results"]], bh, rtol=1e-12)


def test_degenerate_rows_are_none_and_left_out_of_the_family(example: dict[str, Any]) -> None:
    example["metrics"].append(
        {
            "name": "empty",
            "kind": "mean",
            "variants": {
                "control": {"n": 1, "sum": 3.0, "sum_sq": 9.0},
                "treatment": {"n": 0, "sum": 0, "sum_sq": 0},
            },
        }
    )
    example["metrics"].append(
        {
            "name": "nothing",
            "kind": "proportion",
            "variants": {"control": {"n": 100, "sum": 0}, "treatment": {"n": 90, "sum": 4}},
        }
    )
    out = run_stats(example)
    empty, nothing = out["results"][3], out["results"][4]
    assert empty["status"] == "too_few_units"
    assert empty["p_value"] is None
    assert empty["p_value_adjusted"] is None
    assert empty["significant"] is False
    assert empty["mean_variant"] is None
    assert nothing["status"] == "zero_control_mean"
    assert nothing["rel_effect"] is None
    raw = [r["p_value"] for r in out["results"] if r["p_value"] is not None]
    assert len(raw) == 4
    np.testing.assert_allclose(
        [r["p_value_adjusted"] for r in out["results"] if r["p_value"] is not None],
        multipletests(raw, method="holm")[1],
        rtol=1e-12,
    )
    json.dumps(out, allow_nan=False)  # no NaN leaks into the JSON


def test_covariates_become_x_columns() -> None:
    data = {
        "metrics": [
            {
                "name": "m",
                "kind": "mean",
                "variants": {
                    v: {
                        "n": 10,
                        "sum": 5.0,
                        "sum_sq": 9.0,
                        "cov_sums": [4.0, 2.0],
                        "cov_sq": [[6.0, 1.0], [1.0, 3.0]],
                        "cov_y": [3.0, 1.5],
                    }
                    for v in ("a", "b")
                },
            }
        ]
    }
    m = parse_stats_input(data).metrics[0]
    assert m.moments.names == ("y", "x1", "x2")
    assert m.covariates == ("x1", "x2")
    np.testing.assert_allclose(m.moments.sum_product("y", "x2"), [1.5, 1.5])
    np.testing.assert_allclose(m.moments.sum_product("x1", "x2"), [1.0, 1.0])
    result = run_stats(data)["results"][0]
    assert result["status"] == "ok"
    assert result["p_value"] == pytest.approx(1.0)


def test_method_steps_add_keys_to_each_result(
    example: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def step(s: StatsSummary) -> list[dict[str, Any]]:
        return [{"extra": row.metric.upper()} for row in s.rows]

    monkeypatch.setitem(summary_module.METHOD_STEPS, "bayesian", step)
    out = run_stats({**example, "method": "bayesian"})
    assert [r["extra"] for r in out["results"]] == ["CONVERSION", "REVENUE", "CLICKS_PER_SESSION"]


def _set(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node = out
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


_DELETE = object()
BAD = [
    (
        ["metrics", 1, "variants", "treatment", "sum_sq"],
        _DELETE,
        "metric 'revenue', variant 'treatment': field 'sum_sq' is missing",
    ),
    (
        ["metrics", 0, "variants", "control", "n"],
        -5,
        "metric 'conversion', variant 'control': field 'n' must be a whole number ≥ 0",
    ),
    (
        ["metrics", 1, "variants", "control", "sum_sq"],
        100.0,
        "metric 'revenue', variant 'control': field 'sum_sq'",
    ),
    (
        ["metrics", 2, "variants", "control", "num_den_sum"],
        1e9,
        "metric 'clicks_per_session', variant 'control': fields",
    ),
    (["metrics", 0, "kind"], "median", "metric 'conversion': field 'kind' is 'median'"),
    (["metrics", 0, "control"], "ctrl", "metric 'conversion': field 'control' is 'ctrl'"),
    (
        ["metrics", 1, "variants", "treatment"],
        _DELETE,
        "metric 'revenue', variant 'treatment': missing",
    ),
    (
        ["metrics", 0, "variants", "control", "sum"],
        20000,
        "metric 'conversion', variant 'control': field 'sum' must lie in [0, n]",
    ),
    (["metrics", 0, "variants", "control", "sum"], "500", "field 'sum' must be a finite number"),
    (["metrics", 0, "name"], _DELETE, "metrics[0]: field 'name' is missing"),
    (["correction"], "sidakk", "field 'correction' is 'sidakk'"),
    (["alternative"], "both", "field 'alternative' is 'both'"),
    (["alpha"], 1.5, "field 'alpha' must lie in (0, 1)"),
    (["srm", "weights", "control"], 0, "srm: needs at least two variants, each with a weight > 0"),
    (["metrics"], _DELETE, "input: field 'metrics' is missing"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD, ids=[m for _, _, m in BAD])
def test_bad_input_names_metric_variant_and_field(
    example: dict[str, Any], path: list[Any], value: Any, message: str
) -> None:
    with pytest.raises(InputError) as info:
        run_stats(_set(example, path, value))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_method_not_available_is_a_clear_error(
    example: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(summary_module.METHOD_STEPS, "sequential", raising=False)
    with pytest.raises(InputError, match="method 'sequential' is not available"):
        run_stats({**example, "method": "sequential"})


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    ("kind", "control", "variant", "status"),
    [
        (
            "mean",
            {"n": 50, "sum": 100.0, "sum_sq": 200.0},
            {"n": 50, "sum": 100.0, "sum_sq": 200.0},
            "zero_variance",
        ),
        ("proportion", {"n": 1, "sum": 1}, {"n": 40, "sum": 4}, "too_few_units"),
        (
            "ratio",
            {
                "n": 20,
                "num_sum": 0,
                "num_sum_sq": 0,
                "den_sum": 0,
                "den_sum_sq": 0,
                "num_den_sum": 0,
            },
            {
                "n": 20,
                "num_sum": 5,
                "num_sum_sq": 9,
                "den_sum": 30,
                "den_sum_sq": 60,
                "num_den_sum": 10,
            },
            "zero_denominator",
        ),
        (
            "mean",
            {"n": 30, "sum": 0.0, "sum_sq": 30.0},
            {"n": 30, "sum": 6.0, "sum_sq": 40.0},
            "zero_control_mean",
        ),
    ],
)
def test_degenerate_json_rows(
    kind: str, control: dict[str, Any], variant: dict[str, Any], status: str
) -> None:
    data = {"metrics": [{"name": "m", "kind": kind, "variants": {"c": control, "v": variant}}]}
    out = run_stats(data)
    row = out["results"][0]
    assert row["status"] == status
    assert row["rel_ci_low"] is None
    if status != "zero_control_mean":
        assert row["p_value"] is None
        assert row["significant"] is False
    json.dumps(out, allow_nan=False)


def test_three_variants_and_srm_over_three_groups() -> None:
    counts = {"a": 5000, "b": 5100, "c": 4700}
    data = {
        "srm": {"counts": counts, "weights": {"a": 1, "b": 1, "c": 1}, "threshold": 0.01},
        "correction": "bonferroni",
        "metrics": [
            {
                "name": "conv",
                "kind": "proportion",
                "variants": {
                    k: {"n": n, "sum": n // 10 + i * 30} for i, (k, n) in enumerate(counts.items())
                },
            }
        ],
    }
    out = run_stats(data)
    ref = sps.chisquare(list(counts.values()))
    assert out["srm"]["chi2"] == pytest.approx(ref.statistic, rel=1e-9)
    assert out["srm"]["df"] == 2
    assert out["srm"]["mismatch"] is bool(ref.pvalue < 0.01)
    assert [r["variant"] for r in out["results"]] == ["b", "c"]
    for r in out["results"]:
        assert r["p_value_adjusted"] == pytest.approx(min(1.0, 2 * r["p_value"]), rel=1e-12)
