"""Assignment speed: single calls against the GrowthBook Python SDK, and the batch rate.

Run: ``python benchmarks/assign.py [--units N] [--batch-units N]``. GrowthBook runs in its own
virtual environment (created under the temp directory when missing), on the same unit ids and
an equivalent experiment: two variants at 50/50, full coverage, hashed on the unit id.
Targets: single call ≥ 5× GrowthBook; batch ≥ 5 million units per second on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from shipit.assign import Assigner, hash_batch
from shipit.spec import Experiment

VENV = Path(tempfile.gettempdir()) / "ref-growthbook"

GROWTHBOOK = """
import json, sys, time
from growthbook import Experiment, GrowthBook
n = int(sys.argv[1])
ids = [f"user-{i}" for i in range(n)]
exp = Experiment(key="checkout", variations=["control", "treatment"], weights=[0.5, 0.5])
gb = GrowthBook(attributes={"id": ids[0]})
best = 0.0
for _ in range(3):
    start = time.perf_counter()
    for unit in ids:
        gb.set_attributes({"id": unit})
        gb.run(exp)
    best = max(best, n / (time.perf_counter() - start))
print(json.dumps({"rate": best}))
"""


def _growthbook_python() -> Path:
    """The venv interpreter with growthbook installed (made on first use)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import growthbook"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "growthbook"], check=True)
    return python


def growthbook_rate(n: int) -> float:
    """GrowthBook single-call assignments per second (best of three passes)."""
    out = subprocess.run(
        [str(_growthbook_python()), "-c", GROWTHBOOK, str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout)["rate"])


def shipit_single_rate(assigner: Assigner, n: int) -> float:
    """shipit single-call assignments per second (best of three passes)."""
    ids = [f"user-{i}" for i in range(n)]
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for unit in ids:
            assigner.assign(unit)
        best = max(best, n / (time.perf_counter() - start))
    return best


def shipit_batch_rate(assigner: Assigner, n: int) -> float:
    """shipit batch assignments per second on a numpy array of string ids (best of three)."""
    ids = np.char.add("user-", np.arange(n).astype(str))
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        assigner.assign_batch(ids)
        best = max(best, n / (time.perf_counter() - start))
    return best


def md5_batch_rate(n: int) -> float:
    """Hash version 2 (md5, recomputable in SQL) batch hashes per second (best of three)."""
    ids = np.char.add("user-", np.arange(n).astype(str))
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        hash_batch(2, "checkout", ids)
        best = max(best, n / (time.perf_counter() - start))
    return best


def main() -> None:
    """Print the rates and their ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=200_000, help="single-call units")
    parser.add_argument("--batch-units", type=int, default=10_000_000, help="batch units")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    experiment = Experiment.model_validate(
        {
            "key": "checkout",
            "variants": [{"key": "control", "weight": 0.5}, {"key": "treatment", "weight": 0.5}],
        }
    )
    assigner = Assigner(experiment)
    gb = growthbook_rate(args.units)
    single = shipit_single_rate(assigner, args.units)
    batch = shipit_batch_rate(assigner, args.batch_units)
    print(f"GrowthBook SDK single call : {gb:>14,.0f} units/s")
    print(f"shipit single call         : {single:>14,.0f} units/s  ({single / gb:.1f}x GrowthBook)")
    print(
        f"shipit batch ({args.batch_units:,} ids) : {batch:>14,.0f} units/s  "
        f"({batch / gb:.0f}x GrowthBook, {batch / 5e6:.2f}x the 5M/s target)"
    )
    md5 = md5_batch_rate(min(args.batch_units, 1_000_000))
    print(
        f"shipit batch, md5 version 2 : {md5:>14,.0f} units/s  "
        f"({md5 / batch:.2f}x the default version; for audits in SQL)"
    )
    print(
        f"targets: single >= 5x GrowthBook: {'met' if single >= 5 * gb else 'NOT met'}; "
        f"batch >= 5M/s: {'met' if batch >= 5e6 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
