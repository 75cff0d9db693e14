"""A per-unit table analysed by shipit and by tea-tasting on DuckDB: same numbers, time and
peak memory of each, and their ratios, in one run.

The table (``--rows``, default 10M, one row per user) is written once as Parquet; four
metrics — revenue (CUPED with the pre-period revenue), orders, conversion (0/1) and revenue
per order (a ratio) — are analysed by ``shipit.analyze(spec, engine)`` on a spec whose
``source`` is the file, and by ``tt.Experiment(...).analyze(data)`` on an Ibis DuckDB
table reading the same file. Each side runs in its own process (peak RSS is that
process's), tea-tasting in ``benchmarks/.venv-peers`` (created on first run), since its
pins need not match ours.

    python benchmarks/teatasting.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
PEERS = HERE / ".venv-peers"
PEER_PACKAGES = ["tea-tasting", "ibis-framework[duckdb]"]

SHIPIT_SIDE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import shipit
import shipit.analysis.frame  # the library loaded before the clock starts, as for the peer
from shipit.store.duckdb import DuckDBEngine
spec = shipit.Experiment.model_validate({
    "key": "bench",
    "variants": [{"key": "A", "weight": 0.5}, {"key": "B", "weight": 0.5}],
    "source": {"table": sys.argv[1], "variant": "variant"},
    "metrics": [
        {"name": "revenue", "column": "revenue",
         "covariates": [{"name": "pre_revenue", "column": "pre_revenue"}]},
        {"name": "orders", "column": "orders"},
        {"name": "converted", "column": "converted", "aggregation": "any"},
        {"name": "revenue_per_order", "numerator": {"column": "revenue"},
         "denominator": {"column": "orders"}},
    ],
    "primary_metric": "revenue",
    "secondary_metrics": ["orders", "converted", "revenue_per_order"],
})
t1 = time.perf_counter()
analysis = shipit.analyze(spec, DuckDBEngine(":memory:"))
t2 = time.perf_counter()
out = {}
for e in analysis.effects:
    best = e.best
    out[e.metric] = {
        "control": e.mean_control, "treatment": e.mean_variant,
        "effect": best.abs_effect, "ci_low": best.abs_ci_low, "ci_high": best.abs_ci_high,
        "rel_effect": best.rel_effect, "p_value": best.p_value,
        "raw_p_value": e.raw.p_value,
    }
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"analyze_s": t2 - t1, "total_s": t2 - t0, "peak_mb": peak, "metrics": out}))
"""

TEA_SIDE = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
import ibis
import ibis.backends.duckdb
import tea_tasting as tt
t1 = time.perf_counter()
con = ibis.duckdb.connect()
data = con.read_parquet(sys.argv[1])
experiment = tt.Experiment(
    revenue=tt.Mean("revenue", "pre_revenue"),
    orders=tt.Mean("orders"),
    converted=tt.Mean("converted"),
    revenue_per_order=tt.RatioOfMeans("revenue", "orders"),
)
result = experiment.analyze(data, control="A")
t2 = time.perf_counter()
out = {}
for name, r in result.items():
    out[name] = {
        "control": r.control, "treatment": r.treatment,
        "effect": r.effect_size, "ci_low": r.effect_size_ci_lower,
        "ci_high": r.effect_size_ci_upper, "rel_effect": r.rel_effect_size,
        "p_value": r.pvalue,
    }
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"analyze_s": t2 - t1, "total_s": t2 - t0, "peak_mb": peak, "metrics": out}))
"""


def _peer_python() -> Path:
    """tea-tasting's interpreter, in its own virtual environment (made on first run)."""
    python = PEERS / "bin" / "python"
    if not python.exists():
        print(f"creating {PEERS} with {', '.join(PEER_PACKAGES)} (once)...", flush=True)
        venv.EnvBuilder(with_pip=True).create(PEERS)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


def write_table(path: Path, rows: int, seed: int) -> None:
    """The per-unit table, generated inside DuckDB (no rows pass through Python)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 1")  # setseed makes random() reproducible on one thread
    con.execute(f"SELECT setseed({(seed % 1000) / 1000})")
    con.execute(
        f"""
        COPY (
          WITH base AS (
            SELECT i,
                   CASE WHEN random() < 0.5 THEN 'A' ELSE 'B' END AS variant,
                   -ln(1 - random()) * 20 AS pre_revenue,
                   random() AS u1, random() AS u2
            FROM range({rows}) t(i)
          ), outcome AS (
            SELECT *, CAST(floor(-ln(1 - u1) * CASE WHEN variant = 'B' THEN 1.05 ELSE 1.0 END
                                 * (0.5 + pre_revenue / 40)) AS INTEGER) AS orders
            FROM base
          )
          SELECT i AS user_id, variant, pre_revenue, orders,
                 orders * (5 + 10 * u2) + 0.3 * pre_revenue AS revenue,
                 CAST(orders > 0 AS INTEGER) AS converted
          FROM outcome
        ) TO '{path}' (FORMAT parquet)
        """
    )
    con.close()


def _side(python: str, code: str, table: Path, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [python, "-c", code, str(table)], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{python} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


ESTIMATES = ("control", "treatment", "effect", "rel_effect")
INFERENCE = ("ci_low", "ci_high", "p_value")


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """Per metric: the largest relative difference of the estimates, and of the intervals
    and p-values (where the two tools test the same way these agree too)."""

    def worst(mine: dict[str, Any], peer: dict[str, Any], keys: tuple[str, ...]) -> str:
        diffs = {
            k: abs(float(mine[k]) - float(peer[k])) / max(abs(float(peer[k])), 1e-300) for k in keys
        }
        key = max(diffs, key=lambda k: diffs[k])
        return f"{diffs[key]:.1e} ({key})"

    return [
        f"  {metric:18} estimates {worst(mine, theirs['metrics'][metric], ESTIMATES):22}"
        f" intervals and p {worst(mine, theirs['metrics'][metric], INFERENCE)}"
        for metric, mine in ours["metrics"].items()
    ]


def main() -> None:
    """Generate, run both sides, print numbers and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--dir", type=Path, default=None, help="where the table is written")
    args = parser.parse_args()
    peer = _peer_python()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        table = Path(tmp) / "units.parquet"
        print(f"writing {args.rows:,} rows to {table.name} ...", flush=True)
        write_table(table, args.rows, args.seed)
        env_ours = {**os.environ, "PYTHONPATH": str(SRC)}
        env_peer = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        ours = _side(sys.executable, SHIPIT_SIDE, table, env_ours)
        theirs = _side(str(peer), TEA_SIDE, table, env_peer)
    print(f"\nper-unit table, {args.rows:,} rows, 4 metrics (one with a covariate), DuckDB")
    print(f"{'':14}{'analyze s':>12}{'with imports s':>16}{'peak MB':>10}")
    for name, r in (("shipit", ours), ("tea-tasting", theirs)):
        print(f"{name:14}{r['analyze_s']:12.3f}{r['total_s']:16.3f}{r['peak_mb']:10.0f}")
    print(
        f"{'ratio t/s':14}{theirs['analyze_s'] / ours['analyze_s']:12.2f}"
        f"{theirs['total_s'] / ours['total_s']:16.2f}{theirs['peak_mb'] / ours['peak_mb']:10.2f}"
        "   (tea-tasting / shipit: > 1 means shipit is faster / leaner)"
    )
    print(
        "\nsame numbers, largest relative difference (revenue is CUPED-adjusted in both, θ"
        " estimated slightly differently; shipit tests a 0/1 mean as a proportion with the"
        " pooled z test and a ratio with z, tea-tasting both with Welch's t):"
    )
    print("\n".join(compare(ours, theirs)))


if __name__ == "__main__":
    main()
