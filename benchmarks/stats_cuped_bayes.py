"""Time CUPED and Bayesian outputs on 10,000 comparisons, against the plain frequentist run.

Rows (each best of ``--repeats``, ratio to the frequentist baseline in the same run):
- frequentist: Welch comparisons of 10,000 mean metrics (the baseline);
- cuped: the same with one pre-period covariate, adjusted and raw results side by side;
- cuped + bayesian: plus the Normal-model posterior on the adjusted relative effect
  (the target: under one second);
- beta-binomial: 10,000 proportion comparisons, exact P(better), both expected losses and
  the credible intervals of the absolute and relative difference;
- prob_best: three variants per row, seeded Monte Carlo from the closed-form posteriors.

    python benchmarks/stats_cuped_bayes.py [--comparisons 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from shipit.stats import Moments, compare
from shipit.stats.bayesian import compare_normal, prob_best_normal
from shipit.stats.beta_binomial import compare_beta
from shipit.stats.cuped import compare_cuped


def make_moments(rows: int, seed: int = 7) -> tuple[Moments, Moments]:
    """Exact sufficient statistics of y = x + noise for control and variant of each row."""
    rng = np.random.default_rng(seed)
    out = []
    for lift in (0.0, 0.02):
        n = rng.integers(2_000, 20_000, rows).astype(float)
        # 64 simulated units per row, each counted n/64 times: x ~ N(10, 3²),
        # y = 2 + x·(1 + lift) + N(0, 2²)
        x = rng.normal(10.0, 3.0, (rows, 64))
        y = 2.0 + x * (1.0 + lift) + rng.normal(0.0, 2.0, (rows, 64))
        scale = (n / 64.0)[:, None]
        sums = np.stack([y.sum(1), x.sum(1)], axis=1) * scale
        cross = (
            np.einsum("gu,gv->g", y, y),
            np.einsum("gu,gu->g", x, y),
            np.einsum("gu,gu->g", x, x),
        )
        m = np.empty((rows, 2, 2))
        m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = cross[0], cross[1], cross[1], cross[2]
        out.append(
            Moments.from_sums(
                [str(i) for i in range(rows)], ["y", "x"], n, sums, m * scale[:, None]
            )
        )
    return out[0], out[1]


def best_of(repeats: int, fn: Callable[[], Any]) -> float:
    """Fastest wall time of ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comparisons", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = args.comparisons
    control, variant = make_moments(rows)
    rng = np.random.default_rng(3)
    n = rng.integers(2_000, 20_000, rows).astype(float)
    s_c = rng.binomial(n.astype(np.int64), 0.10).astype(float)
    s_v = rng.binomial(n.astype(np.int64), 0.103).astype(float)

    def cuped_bayes() -> None:
        comp = compare_cuped(control, variant, "mean")
        compare_normal(comp.adjustment.control, comp.adjustment.variant)

    def prob_best() -> None:
        mu = rng.normal(0.0, 0.01, (rows, 3))
        prob_best_normal(mu, np.full((rows, 3), 0.01), draws=2_000, seed=1)

    timings = {
        "frequentist (baseline)": best_of(
            args.repeats, lambda: compare(control.select(["y"]), variant.select(["y"]), "mean")
        ),
        "cuped (k = 1) + frequentist": best_of(
            args.repeats, lambda: compare_cuped(control, variant, "mean")
        ),
        "cuped + bayesian (normal)": best_of(args.repeats, cuped_bayes),
        "beta-binomial (exact, intervals)": best_of(
            args.repeats, lambda: compare_beta(s_c, n, s_v, n)
        ),
        "prob_best, 3 variants, 2,000 draws": best_of(args.repeats, prob_best),
    }
    base = timings["frequentist (baseline)"]
    print(f"comparisons: {rows:,}")
    for name, seconds in timings.items():
        print(f"{name:36s} {seconds * 1e3:10.1f} ms   {seconds / base:8.1f}× baseline")
    target = timings["cuped + bayesian (normal)"]
    ok = target < 1.0
    print(f"cuped + bayesian on {rows:,} comparisons: {target:.3f} s (target < 1 s): {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
