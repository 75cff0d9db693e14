"""Type I error of group-sequential verdicts, analysed at every planned look (seeded).

Each null path's looks go through what ``analyze`` runs from the moments on: ``row_stats``
then the pipeline's sequential step, one row per path (each an independent comparison);
a path rejects when a look crosses a bound, which is what the verdict reads.
"""

from __future__ import annotations

import numpy as np
import pytest

from shipit.analysis.effects import row_stats
from shipit.analysis.pipeline import _overall_sequential
from shipit.spec.experiment import Experiment, Variant
from shipit.spec.metric import MetricDef
from shipit.spec.plan import AnalysisPlan, SequentialPlan
from shipit.stats.moments import Moments

METRIC = MetricDef(name="converted", event="convert", aggregation="any")


def _plan(spending: str, looks: int, horizon: int) -> AnalysisPlan:
    # Rows here are independent one-treatment paths, not treatments of one experiment: no
    # correction across rows (with one treatment the plan's correction changes nothing).
    return AnalysisPlan(
        method="sequential",
        cuped=False,
        correction="none",
        sequential=SequentialPlan(kind="gst", horizon=horizon, looks=looks, spending=spending),
    )


def _experiment(plan: AnalysisPlan) -> Experiment:
    return Experiment(
        key="gst-null",
        variants=(Variant(key="control", weight=0.5), Variant(key="treatment", weight=0.5)),
        metrics=(METRIC,),
        primary_metric="converted",
        analysis=plan,
    )


def _moments(label: str, n: np.ndarray, s: np.ndarray) -> Moments:
    """Moments of a 0/1 metric: n, Σy and Σy² = Σy per row."""
    m = np.empty((n.size, 2, 2))
    m[:, 0, 0] = n
    m[:, 0, 1] = m[:, 1, 0] = m[:, 1, 1] = s
    return Moments(tuple(f"{label}{i}" for i in range(n.size)), ("y",), m)


def _null_rejections(plan: AnalysisPlan, paths: int, seed: int, p: float = 0.2) -> np.ndarray:
    """Whether each null path crosses a bound at some planned look, analysed at every one."""
    exp = _experiment(plan)
    looks = plan.sequential.looks
    assert plan.sequential.horizon is not None
    batch = plan.sequential.horizon // looks
    rng = np.random.default_rng(seed)
    sc = np.cumsum(rng.binomial(batch, p, size=(looks, paths)), axis=0).astype(float)
    sv = np.cumsum(rng.binomial(batch, p, size=(looks, paths)), axis=0).astype(float)
    hit = np.zeros(paths, dtype=bool)
    for k in range(looks):
        n = np.full(paths, batch * (k + 1), dtype=float)
        rs = row_stats(
            _moments("c", n, sc[k]), _moments("v", n, sv[k]), METRIC, plan, higher_is_better=True
        )
        seq = _overall_sequential(rs, exp)
        hit |= np.array([b.crossed != "none" for b in seq])
    return hit


def test_null_paths_at_every_planned_look_quick() -> None:
    """A quick, bounded version of the calibration below."""
    hit = _null_rejections(_plan("obrien_fleming", 4, 8_000), 4_000, seed=11)
    assert hit.mean() == pytest.approx(0.05, abs=0.015)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spending", "looks", "seed"), [("obrien_fleming", 4, 2026), ("pocock", 5, 2027)]
)
def test_type_one_error_at_every_planned_look(spending: str, looks: int, seed: int) -> None:
    # 40,000 paths: the rate's standard error is 0.0011, so ±0.005 is over 4 of them.
    hit = _null_rejections(_plan(spending, looks, looks * 2_000), 40_000, seed)
    assert hit.mean() == pytest.approx(0.05, abs=0.005)
