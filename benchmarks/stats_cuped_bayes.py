"""Time CUPED and Bayesian outputs on 10,000 comparisons, against the plain frequentist run.

Rows (each best of ``--repeats``, ratio to the frequentist baseline in the same run):
- frequentist: Welch comparisons of 10,000 mean metrics (the baseline);
- cuped: the same with one pre-period covariate, adjusted and raw results side by side;
- cuped + bayesian: plus the Normal-model posterior on the adjusted relative effect
  (the target: under one second);
- beta-binomial: 10,000 proportion comparisons, exact P(better), both expected losses and
  the credible intervals of the absolute and relative difference;
- prob_best: three variants per row, seeded Monte Carlo from the closed-form posteriors;
- full run: ``run_stats`` (what ``shipit stats`` does) on 10,000 comparisons, half proportions
  (Beta-Binomial) and half means with one covariate (CUPED, Normal model on the adjusted
  effect), method bayesian, against the plain frequentist run of the same metrics without
  covariates. Its ratio is the cost of CUPED + Bayesian over the frequentist analysis; the
  analysis alone (``analyze_input`` on the parsed request) is timed apart from reading it.

The machine may be shared: the load average is printed, and CPU time of this process is
reported next to wall time.

    python benchmarks/stats_cuped_bayes.py [--comparisons 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from shipit.analysis.given import analyze_input, parse_stats_input, run_stats, summary_to_dict
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


def full_input(rows: int, seed: int = 11) -> tuple[dict[str, Any], dict[str, Any]]:
    """A ``shipit stats`` request of ``rows`` comparisons: bayesian + CUPED, and plain."""
    rng = np.random.default_rng(seed)
    metrics: list[dict[str, Any]] = []
    plain: list[dict[str, Any]] = []
    for i in range(rows):
        n = [float(v) for v in rng.integers(2_000, 20_000, 2)]
        if i % 2 == 0:
            s = [float(rng.binomial(int(m), p)) for m, p in zip(n, (0.10, 0.103), strict=True)]
            variants = {
                name: {"n": m, "sum": k} for name, m, k in zip(("c", "t"), n, s, strict=True)
            }
            metric = {"name": f"m{i}", "kind": "proportion", "variants": variants}
            metrics.append(metric)
            plain.append(metric)
            continue
        full: dict[str, Any] = {}
        bare: dict[str, Any] = {}
        for name, m, lift in zip(("c", "t"), n, (0.0, 0.02), strict=True):
            x = rng.normal(10.0, 3.0, 64)
            y = 2.0 + x * (1.0 + lift) + rng.normal(0.0, 2.0, 64)
            w = m / 64.0
            base = {"n": m, "sum": y.sum() * w, "sum_sq": (y @ y) * w}
            bare[name] = base
            full[name] = base | {
                "cov_sums": [x.sum() * w],
                "cov_sq": [[(x @ x) * w]],
                "cov_y": [(x @ y) * w],
            }
        metrics.append({"name": f"m{i}", "kind": "mean", "variants": full})
        plain.append({"name": f"m{i}", "kind": "mean", "variants": bare})
    bayes = {"method": "bayesian", "correction": "holm", "metrics": metrics}
    return bayes, {"method": "frequentist", "correction": "holm", "metrics": plain}


def best_of(repeats: int, fn: Callable[[], Any]) -> float:
    """Fastest wall time of ``repeats`` runs."""
    return best_times(repeats, fn)[0]


def best_times(repeats: int, fn: Callable[[], Any]) -> tuple[float, float]:
    """Fastest wall time and fastest CPU time (this process) of ``repeats`` runs."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


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
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"comparisons: {rows:,}   load average (1, 5, 15 min): {load}   cores: {os.cpu_count()}")
    for name, seconds in timings.items():
        print(f"{name:36s} {seconds * 1e3:10.1f} ms   {seconds / base:8.1f}× baseline")
    bayes, plain = full_input(rows)
    plain_wall, plain_cpu = best_times(args.repeats, lambda: run_stats(plain))
    full_wall, full_cpu = best_times(args.repeats, lambda: run_stats(bayes))
    parsed = parse_stats_input(bayes)
    only_wall, only_cpu = best_times(args.repeats, lambda: summary_to_dict(analyze_input(parsed)))
    print(f"full run_stats, {rows:,} comparisons (half proportions, half means + covariate):")
    print(f"  frequentist, no covariates   {plain_wall:8.3f} s wall {plain_cpu:8.3f} s cpu")
    print(
        f"  cuped + bayesian             {full_wall:8.3f} s wall {full_cpu:8.3f} s cpu"
        f"   {full_wall / plain_wall:6.2f}× the frequentist run"
    )
    print(
        f"  of which the analysis        {only_wall:8.3f} s wall {only_cpu:8.3f} s cpu"
        "   (the rest reads and checks the JSON-shaped input)"
    )
    target = timings["cuped + bayesian (normal)"]
    ok = target < 1.0 and only_cpu < 1.0
    print(
        f"cuped + bayesian on {rows:,} comparisons: library {target:.3f} s, analysis of the "
        f"full request {only_cpu:.3f} s cpu (target < 1 s): {ok}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
