"""Pieces the report shows that ``shipit stats`` did before it: CUPED's θ and variance
reduction, and pre-period balance for every variant with its interval."""

from __future__ import annotations

import numpy as np
import pytest

from shipit.decide import DecisionPolicy, assemble
from shipit.decide.trust import balance_check
from shipit.report.analysis_terminal import to_text
from shipit.report.charts import balance_chart
from shipit.report.markdown import render_markdown
from shipit.result.model import Analysis, CupedInfo, Effect, Estimate
from shipit.stats.moments import Moments


def _est(rel: float, se: float, p: float) -> Estimate:
    return Estimate(
        rel_effect=rel, rel_se=se, rel_ci_low=rel - 2 * se, rel_ci_high=rel + 2 * se, p_value=p
    )


def _moments(rng: np.random.Generator, shift: float) -> Moments:
    x = rng.normal(100 * (1 + shift), 10, size=(4_000, 2))
    z = np.column_stack([np.ones(len(x)), x])
    return Moments(("g",), ("x1", "x2"), (z.T @ z)[None, :, :])


def _analysis(rng: np.random.Generator) -> Analysis:
    variants = ["c", "a", "b"]
    effects = [
        Effect(
            metric="m",
            variant=v,
            control="c",
            raw=_est(0.05, 0.02, 0.01),
            adjusted=_est(0.05, 0.01, 1e-6),
            cuped=CupedInfo(
                variance_reduction=0.75, equivalent_n=40_000.0, theta={"pre_m": 0.8123}
            ),
            n_control=10_000,
            n_variant=10_000,
        )
        for v in variants[1:]
    ]
    control = _moments(rng, 0.0)
    checks = [
        balance_check(control, _moments(rng, 0.03), ["x1", "x2"]),
        balance_check(control, _moments(rng, 0.0), ["x1", "x2"]).model_copy(
            update={"name": "balance_b"}
        ),
    ]
    return assemble(
        experiment="x",
        control="c",
        variants=variants,
        policy=DecisionPolicy(primary="m", mde=0.02),
        effects=effects,
        trust=checks,
    )


def test_analyze_reports_cuped_theta_and_variance_reduction(rng: np.random.Generator) -> None:
    a = _analysis(rng)
    for text in (to_text(a, width=160), render_markdown(a)):
        assert "variance reduction" in text
        assert "75.0%" in text
        assert "CUPED on m (a): θ pre_m 0.812; variance reduced by 75.0%" in text
        assert "as precise as 40,000 units without it" in text


def test_balance_chart_shows_every_variant_with_its_interval(rng: np.random.Generator) -> None:
    a = _analysis(rng)
    fig = balance_chart(a)
    assert fig is not None
    assert [t.name for t in fig.data] == ["a vs c", "b vs c"]
    for trace, check in zip(fig.data, a.trust[:2], strict=True):
        d = check.details
        for i, cov in enumerate(("x1", "x2")):
            y = trace.y[i]
            assert y == pytest.approx(d[f"{cov}_rel_diff"])
            assert y + trace.error_y.array[i] == pytest.approx(d[f"{cov}_rel_ci_high"])
            assert y - trace.error_y.arrayminus[i] == pytest.approx(d[f"{cov}_rel_ci_low"])
    # a +3% shift is far outside a 95% interval on 4,000 units; no shift covers 0
    a_ci = a.trust[0].details
    assert a_ci["x1_rel_ci_low"] > 0  # type: ignore[operator]
    b_ci = a.trust[1].details
    assert b_ci["x1_rel_ci_low"] < 0 < b_ci["x1_rel_ci_high"]  # type: ignore[operator]
