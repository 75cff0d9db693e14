"""Record GrowthBook's gbstats outputs for the models shipit shares with it.

gbstats pins versions that clash with ours, so it runs in its own virtual environment
(created under the temp directory when missing) and this script writes its answers, with
the inputs, to ``gbstats_reference.json`` next to it; tests/unit/stats read that file.

    python tests/golden/record_gbstats.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "gbstats_reference.json"
VENV = Path(tempfile.gettempdir()) / "ref-gbstats"
GBSTATS = "gbstats==0.8.0"


def _reexec_in_venv() -> None:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", GBSTATS], check=True)
    os.execv(str(python), [str(python), __file__])


try:
    import gbstats  # noqa: F401
except ImportError:
    _reexec_in_venv()

import importlib.metadata  # noqa: E402

import numpy as np  # noqa: E402
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig  # noqa: E402
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest  # noqa: E402
from gbstats.models.statistics import (  # noqa: E402
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
    compute_theta,
)


def _mean_inputs(rng: np.random.Generator, count: int) -> list[dict[str, float]]:
    """Sufficient statistics of simulated groups: n, Σy, Σy², Σx, Σx², Σxy."""
    rows = []
    for _ in range(count):
        per = []
        for lift in (0.0, float(rng.uniform(-0.05, 0.1))):
            n = int(rng.integers(50, 5000))
            x = rng.gamma(2.0, 5.0, n)
            y = 3.0 + 0.8 * x * (1.0 + lift) + rng.normal(0.0, 4.0, n)
            per.append(
                {
                    "n": n,
                    "sum_y": float(y.sum()),
                    "sum_y2": float((y * y).sum()),
                    "sum_x": float(x.sum()),
                    "sum_x2": float((x * x).sum()),
                    "sum_xy": float((x * y).sum()),
                }
            )
        rows.append({"control": per[0], "variant": per[1]})
    return rows


def _mean_stat(g: dict[str, float]) -> SampleMeanStatistic:
    return SampleMeanStatistic(n=int(g["n"]), sum=g["sum_y"], sum_squares=g["sum_y2"])


def _ra_stat(g: dict[str, float]) -> RegressionAdjustedStatistic:
    return RegressionAdjustedStatistic(
        n=int(g["n"]),
        post_statistic=_mean_stat(g),
        pre_statistic=SampleMeanStatistic(n=int(g["n"]), sum=g["sum_x"], sum_squares=g["sum_x2"]),
        post_pre_sum_of_products=g["sum_xy"],
        theta=0.0,
    )


def _effect(row: dict[str, dict[str, float]], kind: str) -> dict[str, object]:
    res = EffectBayesianABTest(
        _mean_stat(row["control"]),
        _mean_stat(row["variant"]),
        EffectBayesianConfig(difference_type=kind),
    ).compute_result()
    return {
        "chance_to_win": res.chance_to_win,
        "expected": res.expected,
        "ci": list(res.ci),
        "stddev": res.uplift.stddev,
        "risk_control": res.risk[0],
        "risk_variant": res.risk[1],
    }


def _cuped(row: dict[str, dict[str, float]]) -> dict[str, object]:
    a, b = _ra_stat(row["control"]), _ra_stat(row["variant"])
    theta = compute_theta(a, b)
    res = TwoSidedTTest(a, b, FrequentistConfig(difference_type="absolute")).compute_result()
    return {
        "theta": theta,
        "mean_control": a.mean,
        "mean_variant": b.mean,
        "var_control": a.variance,
        "var_variant": b.variance,
        "expected": res.expected,
        "ci": list(res.ci),
        "p_value": res.p_value,
    }


def main() -> None:
    rng = np.random.default_rng(20261122)
    cases = _mean_inputs(rng, 12)
    out = {
        "gbstats_version": importlib.metadata.version("gbstats"),
        "cases": [
            {
                "input": row,
                "effect_absolute": _effect(row, "absolute"),
                "effect_relative": _effect(row, "relative"),
                "cuped_absolute": _cuped(row),
            }
            for row in cases
        ],
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT.name}")


if __name__ == "__main__":
    main()
