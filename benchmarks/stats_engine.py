"""Comparisons per second of the stats engine against spotify-confidence, in one run.

Both get the same aggregates: 10,000 segment × metric comparisons (proportion and mean
metrics) of a treatment against a control, as per-variant n, Σy and Σy². shipit compares
them with one vectorized call per metric kind; spotify-confidence's
``ZTest(...).difference(..., groupby=[...])`` runs in its own virtual environment (its pins
clash with ours), created on first use, timed there in a subprocess. The script also checks
that both give the same numbers where their methods coincide.

    python benchmarks/stats_engine.py [--comparisons 10000] [--reference-comparisons N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

import numpy as np

from shipit.stats import Moments, compare

REF_VENV = Path(tempfile.gettempdir()) / "ref-confidence"
METRICS = (
    ("conversion", "proportion"),
    ("checkout", "proportion"),
    ("revenue", "mean"),
    ("items", "mean"),
)

# Runs inside the reference environment: reads the aggregates, times ZTest.difference.
REFERENCE = r"""
import sys, json, time, warnings
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
from spotify_confidence import ZTest
data = np.load(sys.argv[1])
rows = len(data["n_c"])
df = pd.concat([
    pd.DataFrame({"segment": data["segment"], "metric": data["metric"], "variant": name,
                  "sum": data["s_" + key], "sum_sq": data["q_" + key], "n": data["n_" + key]})
    for name, key in (("control", "c"), ("treatment", "v"))
], ignore_index=True)
start = time.perf_counter()
test = ZTest(df, numerator_column="sum", numerator_sum_squares_column="sum_sq",
             denominator_column="n", categorical_group_columns=["variant", "segment", "metric"],
             interval_size=0.95, correction_method="bonferroni")
diff = test.difference(level_1="control", level_2="treatment", groupby=["segment", "metric"])
elapsed = time.perf_counter() - start
diff = diff.set_index(["segment", "metric"]).loc[list(zip(data["segment"], data["metric"]))]
# A few rows one at a time (no groupby), the documented single-comparison use.
single = []
for i in range(min(8, rows)):
    one = df[(df["segment"] == data["segment"][i]) & (df["metric"] == data["metric"][i])]
    d = ZTest(one.drop(columns=["segment", "metric"]), numerator_column="sum",
              numerator_sum_squares_column="sum_sq", denominator_column="n",
              categorical_group_columns="variant", interval_size=0.95).difference(
        level_1="control", level_2="treatment")
    single.append(d[["difference", "ci_lower", "ci_upper", "p-value"]].to_numpy(float)[0])
np.savez(sys.argv[2], difference=diff["difference"].to_numpy(float),
         ci_lower=diff["ci_lower"].to_numpy(float), ci_upper=diff["ci_upper"].to_numpy(float),
         p_value=diff["p-value"].to_numpy(float), single=np.array(single))
print(json.dumps({"seconds": elapsed, "rows": rows}))
"""


def ensure_reference_env() -> Path:
    """The reference interpreter, creating its virtual environment when missing."""
    python = REF_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {REF_VENV} with spotify-confidence (once)...", flush=True)
        venv.EnvBuilder(with_pip=True).create(REF_VENV)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "spotify-confidence"], check=True
        )
    return python


def make_aggregates(comparisons: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Per-variant n, Σy and Σy² of ``comparisons`` segment × metric rows."""
    rng = np.random.default_rng(seed)
    segments = -(-comparisons // len(METRICS))
    seg = np.repeat([f"s{i}" for i in range(segments)], len(METRICS))[:comparisons]
    met = np.tile([m for m, _ in METRICS], segments)[:comparisons]
    kind = np.tile([k for _, k in METRICS], segments)[:comparisons]
    out: dict[str, np.ndarray] = {"segment": seg, "metric": met, "kind": kind}
    for key, lift in (("c", 1.0), ("v", 1.03)):
        n = rng.integers(2_000, 20_000, comparisons).astype(float)
        p = 0.1 * lift
        s_prop = rng.binomial(n.astype(np.int64), p).astype(float)
        mean, sd = 20.0 * lift, 15.0
        s_mean = n * mean + rng.normal(0, sd * np.sqrt(n))
        q_mean = (n - 1) * sd**2 * rng.chisquare(n - 1) / (n - 1) + s_mean**2 / n
        is_prop = kind == "proportion"
        out["n_" + key] = n
        out["s_" + key] = np.where(is_prop, s_prop, s_mean)
        out["q_" + key] = np.where(is_prop, s_prop, q_mean)
    return out


def run_shipit(agg: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """All comparisons: build Moments from the columns of sums, one compare per kind."""
    rows = len(agg["kind"])
    labels = [str(i) for i in range(rows)]
    out = {k: np.empty(rows) for k in ("abs_effect", "abs_ci_low", "abs_ci_high", "p_value")}
    for kind in ("proportion", "mean"):
        idx = np.flatnonzero(agg["kind"] == kind)
        names = [labels[i] for i in idx]

        def moments(key: str, idx: np.ndarray = idx, names: list[str] = names) -> Moments:
            s, q = agg["s_" + key][idx], agg["q_" + key][idx]
            return Moments.from_sums(
                names, ["y"], agg["n_" + key][idx], s[:, None], q[:, None, None]
            )

        res = compare(moments("c"), moments("v"), kind)
        for k in out:
            out[k][idx] = getattr(res, k)
    return out


def best_of(repeats: int, fn: Any, *args: Any) -> tuple[float, Any]:
    """Fastest wall time of ``repeats`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comparisons", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--reference-comparisons",
        type=int,
        default=None,
        help="time spotify-confidence on the first N comparisons only (it takes minutes on "
        "10,000; its per-comparison cost grows with N, so a subset flatters it)",
    )
    args = parser.parse_args()

    agg = make_aggregates(args.comparisons)
    ours_s, ours = best_of(args.repeats, run_shipit, agg)

    python = ensure_reference_env()
    with tempfile.TemporaryDirectory() as tmp:
        data, result, script = Path(tmp) / "agg.npz", Path(tmp) / "out.npz", Path(tmp) / "ref.py"
        m = min(args.reference_comparisons or args.comparisons, args.comparisons)
        np.savez(data, **{k: v[:m] for k, v in agg.items() if k != "kind"})
        script.write_text(REFERENCE)
        proc = subprocess.run(
            [str(python), str(script), str(data), str(result)],
            check=True,
            capture_output=True,
            text=True,
        )
        ref_s = float(json.loads(proc.stdout.strip().splitlines()[-1])["seconds"])
        ref = dict(np.load(result))

    n = args.comparisons
    ours_rate, ref_rate = n / ours_s, m / ref_s
    print(f"comparisons: {n:,} (segment × metric; {len(METRICS)} metrics, proportion and mean)")
    print(
        f"shipit             {n:7,} in {ours_s * 1e3:10.2f} ms   {ours_rate:14,.0f} comparisons/s"
    )
    print(f"spotify-confidence {m:7,} in {ref_s * 1e3:10.2f} ms   {ref_rate:14,.0f} comparisons/s")
    print(f"ratio: shipit is {ours_rate / ref_rate:,.0f}× faster (target ≥ 1,000×)")

    # Agreement on a few rows, each run alone through ZTest.difference: the effect, and
    # for proportions the unpooled Wald interval, which both use. (Our p-value for
    # proportions uses the pooled variance, and for means we use Welch's t with the n − 1
    # variance where confidence uses z with the population variance: close, not equal.)
    single = ref["single"]
    k = len(single)
    prop = agg["kind"][:k] == "proportion"
    checks = {
        "difference": (ours["abs_effect"][:k], single[:, 0], 1e-9),
        "ci_lower (proportions)": (ours["abs_ci_low"][:k][prop], single[prop, 1], 1e-9),
        "ci_upper (proportions)": (ours["abs_ci_high"][:k][prop], single[prop, 2], 1e-9),
        "p-value (means: Welch t vs z)": (ours["p_value"][:k][~prop], single[~prop, 3], 1e-2),
    }
    ok = True
    for name, (a, b, limit) in checks.items():
        rel = float(np.max(np.abs(a - b) / np.abs(b)))
        ok &= rel <= limit
        print(f"agreement on {k} rows, {name:30s} max relative difference {rel:.1e} (≤ {limit:g})")
    grouped = float(
        np.max(np.abs(ours["abs_effect"][:m] - ref["difference"]) / np.abs(ref["difference"]))
    )
    print(
        f"agreement on the groupby run, difference:         max relative difference {grouped:.1e}"
    )
    ok &= grouped <= 1e-9
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
