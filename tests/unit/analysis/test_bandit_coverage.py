"""Coverage of the bandit analysis over seeded runs with a known truth: a Thompson bandit
moves its traffic period by period (``bandits.allocation.next_weights``, the step the
update runs), and the analysis's inverse-propensity intervals (``analysis.bandit``) cover
every variant's true mean in about 95% of the runs, and are unbiased.

In process on the library (the store's moments per period are checked against an oracle
in test_bandit_moments.py), so that the 200 + 100 runs take about two CPU-seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from shipit.analysis.bandit import bandit_result
from shipit.analysis.bandit_moments import PeriodMoments
from shipit.bandits.allocation import next_weights
from shipit.registry.bandits import BanditPeriod
from shipit.spec import Experiment

RUNS = 200
PERIODS = 6
UNITS = 400  # per period
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _spec(rates: list[float], min_share: float) -> Experiment:
    k = len(rates)
    return Experiment.model_validate(
        {
            "key": "cover",
            "type": "bandit",
            "bandit": {"reward": "converted", "min_share": min_share, "update_every": "1h"},
            "variants": [{"key": f"v{i}", "weight": 1 / k} for i in range(k)],
            "metrics": [{"name": "converted", "event": "buy", "aggregation": "any"}],
        }
    )


def _run(
    spec: Experiment, rates: np.ndarray, seed: int
) -> tuple[PeriodMoments, list[BanditPeriod]]:
    """One served bandit: each period's units split by its weights, converting at ``rates``."""
    assert spec.bandit is not None
    rng = np.random.default_rng(seed)
    variants = list(spec.variant_keys)
    k = len(variants)
    n, s = np.zeros((PERIODS, k)), np.zeros((PERIODS, k))
    periods = [BanditPeriod(0, T0, dict.fromkeys(variants, 1 / k), "start")]
    for t in range(PERIODS):
        w = np.array([periods[t].weights[v] for v in variants])
        n[t] = rng.multinomial(UNITS, w / w.sum())
        s[t] = rng.binomial(n[t].astype(int), rates)
        if t + 1 < PERIODS:
            at = T0 + timedelta(hours=t + 1)
            nxt = next_weights(
                spec.bandit, variants, n.sum(0), s.sum(0), s.sum(0),
                binary=True, period=t + 1, at=at,
            )  # fmt: skip
            periods.append(BanditPeriod(t + 1, at, nxt.weights, "update"))
    weights = np.array([[p.weights[v] for v in variants] for p in periods])
    return PeriodMoments(tuple(variants), n, s, s.copy(), weights), periods


@pytest.mark.parametrize(("rates", "min_share"), [([0.10, 0.15], 0.05), ([0.05, 0.08, 0.12], 0.05)])
def test_ipw_intervals_cover_the_true_means(rates: list[float], min_share: float) -> None:
    spec = _spec(rates, min_share)
    truth = np.asarray(rates)
    covered = np.zeros((RUNS, len(rates)), dtype=bool)
    ipw_error = np.zeros((RUNS, len(rates)))
    best = 0
    runs = RUNS if len(rates) == 2 else RUNS // 2  # Monte Carlo P(best) for 3+: slower
    covered, ipw_error = covered[:runs], ipw_error[:runs]
    final = np.zeros(runs)
    for seed in range(runs):
        pm, periods = _run(spec, truth, seed)
        result = bandit_result(spec, pm, periods)
        arms = {a.variant: a for a in result.arms}
        for j, v in enumerate(spec.variant_keys):
            a = arms[v]
            assert a.ci_low is not None
            assert a.ci_high is not None
            assert a.mean is not None
            covered[seed, j] = a.ci_low <= truth[j] <= a.ci_high
            ipw_error[seed, j] = a.mean - truth[j]
        best += result.best == spec.variant_keys[-1]
        final[seed] = periods[-1].weights[spec.variant_keys[-1]]
    coverage = covered.mean(axis=0)
    # each variant's 95% interval covers its true mean in >= 90% of the seeded runs
    assert np.all(coverage >= 0.90), coverage
    # (all variants at once: about 0.95^k, so no joint claim is made here)
    assert final.mean() > 0.5, final.mean()  # the bandit moved traffic to the best variant
    # IPW is unbiased: its mean error is within 3 standard errors of 0 for every variant
    se = ipw_error.std(axis=0, ddof=1) / np.sqrt(runs)
    assert np.all(np.abs(ipw_error.mean(axis=0)) < 3 * se), (ipw_error.mean(axis=0), se)
    assert best / runs > 0.8  # and the analysis names the truly best variant
