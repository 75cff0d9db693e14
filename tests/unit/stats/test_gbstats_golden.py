"""Agreement with GrowthBook's gbstats where the models coincide (recorded outputs).

tests/golden/record_gbstats.py runs gbstats in its own environment and writes
gbstats_reference.json; gbstats's own tolerance is not stated, so we require 1e-6.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shipit.stats.bayesian import compare_normal
from shipit.stats.cuped import adjust, compare_cuped
from shipit.stats.estimands import summarize
from shipit.stats.moments import Moments

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "gbstats_reference.json"
CASES: list[dict[str, Any]] = json.loads(GOLDEN.read_text())["cases"]
TOL = {"rtol": 1e-6, "atol": 1e-9}


def _moments(row: dict[str, dict[str, float]]) -> tuple[Moments, Moments]:
    out = []
    for side in ("control", "variant"):
        g = row[side]
        cross = [[g["sum_y2"], g["sum_xy"]], [g["sum_xy"], g["sum_x2"]]]
        out.append(
            Moments.from_sums([side], ["y", "x"], [g["n"]], [[g["sum_y"], g["sum_x"]]], [cross])
        )
    return out[0], out[1]


@pytest.mark.parametrize("case", CASES, ids=lambda c: str(c["input"]["control"]["n"]))
@pytest.mark.parametrize("scale", ["absolute", "relative"])
def test_gaussian_effect_flat_prior_agrees(case: dict[str, Any], scale: str) -> None:
    control, variant = _moments(case["input"])
    ref = case[f"effect_{scale}"]
    res = compare_normal(
        summarize(control.select(["y"]), "mean"),
        summarize(variant.select(["y"]), "mean"),
        scale=scale,  # type: ignore[arg-type]
    )
    np.testing.assert_allclose(res.prob_better[0], ref["chance_to_win"], **TOL)
    np.testing.assert_allclose(res.post_mean[0], ref["expected"], **TOL)
    np.testing.assert_allclose(res.post_sd[0], ref["stddev"], **TOL)
    np.testing.assert_allclose([res.cred_low[0], res.cred_high[0]], ref["ci"], **TOL)
    np.testing.assert_allclose(res.expected_loss_control[0], ref["risk_control"], **TOL)
    np.testing.assert_allclose(res.expected_loss_variant[0], ref["risk_variant"], **TOL)


@pytest.mark.parametrize("case", CASES, ids=lambda c: str(c["input"]["control"]["n"]))
def test_cuped_one_covariate_agrees(case: dict[str, Any]) -> None:
    """θ, adjusted means and effect as gbstats; the variances a little larger.

    gbstats treats θ̂ as known (residual variance on n − 1, no Var(θ̂)); ours counts the
    fitted slope (degrees of freedom and Var(θ̂)), which widens the interval by O(1/n).
    """
    control, variant = _moments(case["input"])
    ref = case["cuped_absolute"]
    adj = adjust(control, variant, "mean", theta_from="total")
    np.testing.assert_allclose(adj.theta[0, 0], ref["theta"], **TOL)
    for ours, theirs in ((adj.control, ref["var_control"]), (adj.variant, ref["var_variant"])):
        assert theirs <= ours.unit_var[0] <= theirs * (1.0 + 2.0 / ours.n[0])
    # gbstats reports ȳ − θx̄; ours is centred on the pooled x̄, the same up to θ·x̄
    x_bar = (control.sum("x") + variant.sum("x")) / (control.n + variant.n)
    shift = adj.theta[0, 0] * x_bar[0]
    np.testing.assert_allclose(adj.control.mean[0] - shift, ref["mean_control"], **TOL)
    np.testing.assert_allclose(adj.variant.mean[0] - shift, ref["mean_variant"], **TOL)
    res = compare_cuped(control, variant, "mean", theta_from="total").adjusted
    np.testing.assert_allclose(res.abs_effect[0], ref["expected"], **TOL)
    low, high = ref["ci"]
    assert res.abs_ci_low[0] <= low
    assert high <= res.abs_ci_high[0]
    width = (res.abs_ci_high[0] - res.abs_ci_low[0]) / (high - low)
    assert width < 1.0 + 2.0 / min(control.n[0], variant.n[0])
    assert res.p_value[0] >= ref["p_value"] * (1.0 - 1e-9)
