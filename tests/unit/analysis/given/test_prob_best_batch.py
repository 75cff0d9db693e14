"""P(best) of ``shipit stats``: metrics of the same shape are drawn as one batch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats as sps

from shipit.analysis.given import run_stats
from shipit.stats.bayesian import prob_best_beta, prob_best_normal


def _mean(n: int, mean: float, sd: float) -> dict[str, float]:
    return {"n": n, "sum": n * mean, "sum_sq": (n - 1) * sd**2 + n * mean**2}


def _request() -> dict[str, Any]:
    labels = ("control", "b", "c")
    means = [(10.0, 10.2, 10.1), (5.0, 4.9, 5.05), (1.0, 1.0, 1.02)]
    metrics: list[dict[str, Any]] = [
        {
            "name": f"m{i}",
            "kind": "mean",
            "variants": {k: _mean(4000, mu, 3.0) for k, mu in zip(labels, row, strict=True)},
        }
        for i, row in enumerate(means)
    ]
    metrics.append(
        {
            "name": "conv",
            "kind": "proportion",
            "variants": {
                "control": {"n": 5000, "sum": 500},
                "b": {"n": 5000, "sum": 540},
                "c": {"n": 5000, "sum": 515},
            },
        }
    )
    return {"method": "bayesian", "seed": 5, "metrics": metrics}


def test_batched_prob_best_equals_the_library_on_the_stacked_posteriors() -> None:
    out = run_stats(_request())["metrics"]
    mu = np.array([[10.0, 10.2, 10.1], [5.0, 4.9, 5.05], [1.0, 1.0, 1.02]])
    sd = np.full(mu.shape, np.sqrt(9.0 / 4000))
    best, loss = prob_best_normal(mu, sd, seed=5)
    for j in range(3):
        got = out[j]["prob_best"]
        assert [got[k] for k in ("control", "b", "c")] == pytest.approx(list(best[j]), abs=1e-12)
        lost = out[j]["expected_loss_vs_best"]
        assert [lost[k] for k in ("control", "b", "c")] == pytest.approx(list(loss[j]), rel=1e-6)
    s = np.array([[500.0, 540.0, 515.0]])
    best_b, _ = prob_best_beta(1 + s, 1 + 5000 - s, seed=5)
    conv = out[3]["prob_best"]
    assert [conv[k] for k in ("control", "b", "c")] == pytest.approx(list(best_b[0]), abs=1e-12)


def test_batched_prob_best_agrees_with_an_independent_simulation() -> None:
    out = run_stats(_request())["metrics"][0]
    rng = np.random.default_rng(123)
    sd = np.sqrt(9.0 / 4000)
    x = np.array([10.0, 10.2, 10.1]) + sd * rng.standard_normal((400_000, 3))
    ref = np.bincount(np.argmax(x, axis=1), minlength=3) / x.shape[0]
    got = [out["prob_best"][k] for k in ("control", "b", "c")]
    # 10,000 draws in the summary: within 5 binomial standard errors
    tol = 5 * np.sqrt(ref * (1 - ref) / 10_000) + 1e-3
    assert np.all(np.abs(np.array(got) - ref) <= tol)
    # b against c alone is a closed form: b is best nearly whenever it beats c
    p_bc = sps.norm.cdf(0.1 / (sd * np.sqrt(2)))
    assert got[1] == pytest.approx(p_bc, abs=0.02)
