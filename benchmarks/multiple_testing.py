"""Adjusted p-values per second: shipit's corrections against statsmodels' multipletests.

Both adjust the same families (random p-values with some NaN left out); the script checks
the numbers agree and prints calls per second and their ratio for each method. statsmodels'
Holm runs a full garbage collection on every call, which is what a request pays.

    python benchmarks/multiple_testing.py [--family 40] [--calls 30]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from statsmodels.stats.multitest import multipletests

from shipit.stats.multiple import adjust_p_values

SM_METHOD = {"bonferroni": "bonferroni", "holm": "holm", "bh": "fdr_bh"}


def _per_second(fn: Callable[[], object], calls: int) -> float:
    fn()  # warm up
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return calls / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", type=int, default=40, help="p-values per family")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    p = np.random.default_rng(args.seed).uniform(size=args.family)
    p[:: max(args.family // 8, 1)] = np.nan
    keep = ~np.isnan(p)
    print(f"family of {args.family} p-values ({int((~keep).sum())} NaN), {args.calls} calls")
    print(f"{'method':<12}{'shipit/s':>14}{'statsmodels/s':>16}{'ratio':>10}")
    for method, sm in SM_METHOD.items():
        ours = adjust_p_values(p, method)[keep]
        ref = multipletests(p[keep], method=sm)[1]
        assert np.allclose(ours, ref, rtol=1e-12), method
        fast = _per_second(partial(adjust_p_values, p, method), args.calls)
        slow = _per_second(partial(multipletests, p[keep], method=sm), args.calls)
        print(f"{method:<12}{fast:>14,.0f}{slow:>16,.0f}{fast / slow:>10.1f}")


if __name__ == "__main__":
    main()
