"""Thompson sampling allocation decisions per second: shipit against MABWiser, in one run.

Both learn the same 10-variant history, then decide variants for a batch of units:
- MABWiser: ``MAB.predict`` with one row per unit (a posterior draw per unit and variant);
- shipit: the period's weights (P(best), seeded Monte Carlo) computed once from the
  moments, then each unit mapped to a variant by those weights, as the assignment layer
  does; and, for reference, one vectorized posterior draw per unit.

MABWiser's pins may clash with ours, so it runs in its own virtual environment under the
system temp directory, created here when missing. Usage: ``python benchmarks/bandits.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from shipit.bandits.policies import thompson_beta

ARMS = 10
HISTORY = 20_000
UNITS = 200_000
SEED = 7
VENV = Path(tempfile.gettempdir()) / "ref-mabwiser"

_CHILD = """
import json, sys, time
import numpy as np
from mabwiser.mab import MAB, LearningPolicy
arms, history, units, seed = (int(x) for x in sys.argv[1:5])
rng = np.random.default_rng(seed)
rates = np.linspace(0.05, 0.15, arms)
decisions = rng.integers(0, arms, history)
rewards = (rng.random(history) < rates[decisions]).astype(int)
mab = MAB(list(range(arms)), LearningPolicy.ThompsonSampling(), seed=seed)
mab.fit(decisions.tolist(), rewards.tolist())
dummy = np.zeros((units, 1))
best = float("inf")
for _ in range(3):
    t = time.perf_counter()
    out = mab.predict(dummy)
    best = min(best, time.perf_counter() - t)
assert len(out) == units
share = np.bincount(np.asarray(out), minlength=arms) / units
print(json.dumps({"seconds": best, "share": share.tolist()}))
"""


def _venv_python() -> Path:
    """The reference environment's interpreter, creating the environment if needed."""
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "mabwiser"], check=True)
    return py


def _history() -> tuple[np.ndarray, np.ndarray]:
    """Conversions and units per variant of the same seeded history the child fits."""
    rng = np.random.default_rng(SEED)
    rates = np.linspace(0.05, 0.15, ARMS)
    decisions = rng.integers(0, ARMS, HISTORY)
    rewards = rng.random(HISTORY) < rates[decisions]
    n = np.bincount(decisions, minlength=ARMS).astype(float)
    s = np.bincount(decisions, weights=rewards, minlength=ARMS)
    return s, n


def _best_of(fn: object, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    """Time both, print decisions per second and the ratio."""
    s, n = _history()
    rng = np.random.default_rng(SEED)
    out: dict[str, np.ndarray] = {}

    def by_weights() -> None:
        w = thompson_beta(s, n, draws=10_000, seed=SEED)
        u = rng.random(UNITS)  # the assignment layer's hash-derived uniforms
        out["weights"] = np.minimum(np.searchsorted(np.cumsum(w), u, side="right"), ARMS - 1)

    def per_unit_draw() -> None:
        draws = rng.beta(1 + s, 1 + n - s, size=(UNITS, ARMS))
        out["draws"] = np.argmax(draws, axis=1)

    t_weights = _best_of(by_weights)
    t_draws = _best_of(per_unit_draw)
    child = subprocess.run(
        [str(_venv_python()), "-c", _CHILD, str(ARMS), str(HISTORY), str(UNITS), str(SEED)],
        check=True,
        capture_output=True,
        text=True,
    )
    ref = json.loads(child.stdout.strip().splitlines()[-1])
    rate_ref = UNITS / ref["seconds"]
    rate_w, rate_d = UNITS / t_weights, UNITS / t_draws
    share_w = np.bincount(out["weights"], minlength=ARMS) / UNITS
    print(f"Thompson sampling, {ARMS} variants, batch of {UNITS:,} units")
    print(f"  MABWiser predict (per-unit draws)      {rate_ref:14,.0f} decisions/s")
    print(f"  shipit weights + assignment            {rate_w:14,.0f} decisions/s")
    print(f"  shipit per-unit posterior draws        {rate_d:14,.0f} decisions/s")
    print(f"  ratio shipit (weights) / MABWiser      {rate_w / rate_ref:14.1f}x  (target >= 10x)")
    print(f"  ratio shipit (draws) / MABWiser        {rate_d / rate_ref:14.1f}x")
    gap = np.abs(share_w - np.array(ref["share"])).max()
    print(f"  max gap in served shares vs MABWiser   {gap:14.4f}")


if __name__ == "__main__":
    main()
