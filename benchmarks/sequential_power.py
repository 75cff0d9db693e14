"""The power cost of looking early: expected sample size to detect a true effect.

A true effect is set so that a fixed design of N units per variant has 80% power at
two-sided alpha = 0.05. Seeded simulations (Gaussian outcomes, unit variance) then run:

- the fixed design (one look at N);
- group-sequential designs (Lan-DeMets OBF and Pocock, K equal looks) whose maximum is
  inflated to keep 80% power; their expected size is also computed by the recursion;
- the mSPRT (τ² tuned to the horizon N) and the asymptotic confidence sequence, checked
  after every N/100 units, capped where 80% of the experiments have stopped (so that
  they too have 80% power).

Printed: power reached and expected units per variant, as a ratio to the fixed N.
Run: ``python benchmarks/sequential_power.py [--experiments 20000]``.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats as sps

from shipit.stats.gst import design_drift, expected_fraction, inflation, spending_bounds
from shipit.stats.sequential import asymptotic_cs, horizon_tau2, msprt


def _paths(rng: np.random.Generator, experiments: int, looks: int, step: float, effect: float):
    """Cumulative mean differences and their standard errors at each look."""
    var_step = 2.0 / step  # variance of one batch's mean difference (two variants)
    inc = rng.normal(effect, np.sqrt(var_step), size=(experiments, looks))
    n = step * np.arange(1, looks + 1)
    est = np.cumsum(inc, axis=1) * step / n
    se = np.sqrt(2.0 / n) * np.ones((experiments, 1))
    return est, se, n


def _first_stop(hit: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Power (any hit) and expected units at stopping (the last look when never)."""
    any_hit = hit.any(axis=1)
    stop = np.where(any_hit, hit.argmax(axis=1), hit.shape[1] - 1)
    return float(any_hit.mean()), float(n[stop].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=20_000)
    parser.add_argument("--n", type=float, default=10_000.0, help="fixed-design units per variant")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    alpha, beta, big_n = 0.05, 0.2, args.n
    effect = (sps.norm.isf(alpha / 2) + sps.norm.isf(beta)) * np.sqrt(2.0 / big_n)
    rng = np.random.default_rng(args.seed)
    rows: list[tuple[str, float, float, str]] = []

    est, se, n = _paths(rng, args.experiments, 1, big_n, effect)
    power, mean_n = _first_stop(np.abs(est / se) >= sps.norm.isf(alpha / 2), n)
    rows.append(("fixed design", power, mean_n, "1.000"))

    for spending in ("obf", "pocock"):
        for looks in (5, 20):
            fractions = np.arange(1, looks + 1) / looks
            bounds = spending_bounds(fractions, alpha=alpha, spending=spending)
            r = inflation(bounds, beta=beta)
            est, se, n = _paths(rng, args.experiments, looks, r * big_n / looks, effect)
            power, mean_n = _first_stop(np.abs(est / se) >= bounds.efficacy, n)
            analytic = r * expected_fraction(bounds, design_drift(bounds, beta=beta))
            rows.append(
                (f"GST {spending}, {looks} looks (max ×{r:.3f})", power, mean_n, f"{analytic:.3f}")
            )

    looks, cap = 400, 4.0
    est, se, n = _paths(rng, args.experiments, looks, cap * big_n / looks, effect)
    tau2 = horizon_tau2(np.sqrt(2.0 / big_n), big_n, big_n, alpha=alpha)
    cs = asymptotic_cs(est, se, 2 * n, expected_n=2 * big_n, alpha=alpha)
    always_valid = {
        "mSPRT": msprt(est, se, tau2=tau2, alpha=alpha).p_value <= alpha,
        "asymptotic CS": (cs.ci_low > 0) | (cs.ci_high < 0),
    }
    for name, hit in always_valid.items():
        # Capped where 80% of the experiments have stopped, it has the power of the others;
        # its expected size is then E[min(stopping time, cap)].
        t_stop = np.where(hit.any(axis=1), n[hit.argmax(axis=1)], np.inf)
        n80 = float(np.quantile(t_stop, 1.0 - beta))
        power = float((t_stop <= n80).mean())
        mean_n = float(np.minimum(t_stop, n80).mean())
        rows.append((f"{name} (max ×{n80 / big_n:.3f})", power, mean_n, "—"))

    print(
        f"true effect {effect:.4g} (80% power at N = {big_n:g} per variant), "
        f"{args.experiments:,} experiments each"
    )
    print(f"{'method':44s} {'power':>7s} {'E[n]/N':>8s} {'E[n]/N by recursion':>20s}")
    for name, pw, mn, analytic in rows:
        print(f"{name:44s} {pw:7.3f} {mn / big_n:8.3f} {analytic:>20s}")


if __name__ == "__main__":
    main()
