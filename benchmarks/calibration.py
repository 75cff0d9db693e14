"""Calibration figures by seeded simulation: do intervals cover, do decisions go the right way?

Each check is a function registered in ``CHECKS`` under a name; it takes a size (simulated
experiments, or sequential paths) and a seed and returns ``Row``s (a figure, its Monte Carlo
standard error, the target and whether it is met). Add a check by decorating a function with
``@check("name")``: the table, ``--only`` and the exit code pick it up.

Checks here:
- ``coverage-by-lift``: 95% intervals of the raw and CUPED-adjusted absolute and relative
  effect, at lifts from 0 to +100%, with the lift added to the mean (equal slopes) or
  scaling the metric (slopes grow with it);
- ``coverage-small-n``: the same with few units per covariate (n per variant, k covariates);
- ``bayes-direction``: ``shipit stats`` on an error rate (lower is better) that got worse,
  and the ship rate of the Beta-Binomial rule over simulated experiments in both directions.

Registered from the sibling modules (each still runnable on its own):
- ``gst-*`` (``calibration_sequential.py``): group-sequential type I error through the
  analysis core, sized by ``--paths``;
- ``false-ships-*`` (``calibration_decisions.py``): how often the verdict ships under the
  global null, per method and number of treatments, sized by ``--reps``.

Every experiment is reduced to its moments and all experiments go through one vectorized
call, so thousands of experiments take seconds.

    python benchmarks/calibration.py [--reps 4000] [--paths 20000] [--seed 1] [--only NAME]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from shipit.analysis.given import run_stats
from shipit.stats import Moments
from shipit.stats.beta_binomial import compare_beta
from shipit.stats.cuped import compare_cuped

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling calibration modules
import calibration_decisions
import calibration_sequential

CHUNK = 2_000
REPS = 4_000  # default simulated experiments per row
PATHS = 20_000  # default paths per sequential row
COVERAGE_BAND = 0.01  # 95% ± 1 point; "ok" allows 2 Monte Carlo se beyond it


@dataclass(frozen=True)
class Row:
    """One calibration figure: what was measured, where, and against which target."""

    check: str
    setting: str
    figure: str
    value: float
    se: float  # Monte Carlo standard error (0 for a single computed value)
    target: str
    ok: bool


Check = Callable[[int, int], list[Row]]
CHECKS: dict[str, Check] = {}
SIZED_BY: dict[str, str] = {}  # check name -> the option that sizes it: "reps" or "paths"


def check(name: str, *, sized_by: str = "reps") -> Callable[[Check], Check]:
    """Register a calibration check under ``name`` (the table lists them in this order)."""

    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        SIZED_BY[name] = sized_by
        return fn

    return register


def coverage_row(name: str, setting: str, figure: str, hits: float, reps: int) -> Row:
    """A 95%-interval coverage figure with its binomial standard error."""
    p = hits / reps
    se = math.sqrt(p * (1 - p) / reps)
    ok = abs(p - 0.95) <= COVERAGE_BAND + 2.0 * se
    return Row(name, setting, figure, p, se, "0.95 ± 0.01", ok)


# --- simulated experiments -------------------------------------------------------------


def _moments(y: np.ndarray, x: np.ndarray) -> Moments:
    """Moments of each simulated experiment (rows) from (experiments, units) arrays."""
    z = np.concatenate([np.ones((*y.shape, 1)), y[..., None], x], axis=-1)
    names = ("y", *(f"x{j + 1}" for j in range(x.shape[-1])))
    return Moments(tuple(map(str, range(len(z)))), names, np.einsum("eui,euj->eij", z, z))


def _coverage(
    rng: np.random.Generator,
    reps: int,
    n: int,
    k: int,
    lift: float,
    *,
    rho: float,
    additive: bool,
) -> dict[str, float]:
    """Hits of raw and CUPED 95% intervals over ``reps`` experiments with a known truth.

    Control: y = 12 + Σ(x − 10) + noise, x ~ N(10, 3²), corr(y, Σx) = ρ, so E[y] = 12.
    Variant: 12·lift added to y (additive) or y scaled by 1 + lift.
    """
    noise_sd = 3.0 * math.sqrt(k * (1.0 - rho**2)) / rho
    truth = {"abs": 12.0 * lift, "rel": lift}
    hits = dict.fromkeys(("raw abs", "raw rel", "cuped abs", "cuped rel"), 0.0)
    for start in range(0, reps, CHUNK):
        size = min(CHUNK, reps - start)
        groups = []
        for effect in (0.0, lift):
            x = rng.normal(10.0, 3.0, (size, n, k))
            y = 12.0 + (x - 10.0).sum(axis=-1) + rng.normal(0.0, noise_sd, (size, n))
            y = y + 12.0 * effect if additive else y * (1.0 + effect)
            groups.append(_moments(y, x))
        comp = compare_cuped(groups[0], groups[1], "mean")
        for label, res in (("raw", comp.raw), ("cuped", comp.adjusted)):
            for scale in ("abs", "rel"):
                lo = getattr(res, f"{scale}_ci_low")
                hi = getattr(res, f"{scale}_ci_high")
                hits[f"{label} {scale}"] += float(
                    np.sum((lo <= truth[scale]) & (truth[scale] <= hi))
                )
    return hits


@check("coverage-by-lift")
def coverage_by_lift(reps: int, seed: int) -> list[Row]:
    """Raw and CUPED coverage at lifts 0 to +100%, n = 200 per variant, ρ = 0.95."""
    rng = np.random.default_rng(seed)
    rows = []
    for additive in (True, False):
        for lift in (0.0, 0.2, 0.5, 1.0):
            hits = _coverage(rng, reps, 200, 1, lift, rho=0.95, additive=additive)
            how = "added" if additive else "scaled"
            setting = f"lift {lift:+.0%} {how}, n=200, k=1"
            rows += [coverage_row("coverage-by-lift", setting, f, h, reps) for f, h in hits.items()]
    return rows


@check("coverage-small-n")
def coverage_small_n(reps: int, seed: int) -> list[Row]:
    """Raw and CUPED coverage with few units per covariate, ρ = 0.8, +10% lift."""
    rng = np.random.default_rng(seed + 1)
    rows = []
    for n, k in ((10, 3), (20, 3), (50, 5), (200, 5)):
        hits = _coverage(rng, reps, n, k, 0.1, rho=0.8, additive=True)
        setting = f"n={n}, k={k}, lift +10%"
        rows += [coverage_row("coverage-small-n", setting, f, h, reps) for f, h in hits.items()]
    return rows


@check("bayes-direction")
def bayes_direction(reps: int, seed: int) -> list[Row]:
    """An error rate (lower is better) must ship when it falls and not when it rises."""
    name = "bayes-direction"
    rows = []
    for control, variant, worse in ((500, 600, True), (600, 500, False)):
        data = {
            "method": "bayesian",
            "alternative": "less",
            "metrics": [
                {
                    "name": "errors",
                    "kind": "proportion",
                    "variants": {
                        "control": {"n": 10_000, "sum": control},
                        "variant": {"n": 10_000, "sum": variant},
                    },
                }
            ],
        }
        r = run_stats(data)["results"][0]
        setting = f"stats, errors {control / 100:.0f}% → {variant / 100:.0f}%"
        p = float(r["prob_better"])
        ok = (p < 0.05) if worse else (p > 0.95)
        target = "< 0.05" if worse else "> 0.95"
        rows.append(Row(name, setting, "prob_better", p, 0.0, target, ok))
        rows.append(
            Row(
                name,
                setting,
                "ship",
                float(r["ship"]),
                0.0,
                "0" if worse else "1",
                r["ship"] != worse,
            )
        )
    # ship rate of P(better) ≥ 0.95 and loss ≤ 0.001 over simulated experiments
    rng = np.random.default_rng(seed + 2)
    n = 3_000
    for true_v, label in ((0.06, "worse"), (0.05, "equal"), (0.04, "better")):
        sc = rng.binomial(n, 0.05, reps).astype(float)
        sv = rng.binomial(n, true_v, reps).astype(float)
        res = compare_beta(sc, np.full(reps, n), sv, np.full(reps, n), higher_is_better=False)
        ship = (res.prob_better >= 0.95) & (res.expected_loss_variant <= 0.001)
        rate = float(ship.mean())
        se = math.sqrt(max(rate * (1 - rate), 1e-12) / reps)
        if label == "better":
            target, ok = "power, > 0.5", rate > 0.5
        else:
            target, ok = "≤ 0.05", rate <= 0.05 + 2 * se
        setting = f"errors 5% → {true_v:.0%} ({label}), n={n}"
        # P(better) ≥ 0.95 is a 5% one-sided test when the rates are equal: within 2 MC se
        rows.append(Row(name, setting, "ship rate", rate, se, target, ok))
    return rows


# --- the sibling modules' checks --------------------------------------------------------


def _within(value: float, se: float, target: float) -> bool:
    """A rate that must stay at or below ``target``: ok within 2 Monte Carlo se of it."""
    return value <= target + 2.0 * se


def _sequential(name: str, fn: Callable[..., list[dict[str, Any]]]) -> Check:
    """A ``calibration_sequential`` check (rows of type I error) as a ``Check``."""

    def run(paths: int, seed: int) -> list[Row]:
        rows = fn(paths=paths, seed=seed)
        return [
            Row(
                name,
                f"{r['check'].removeprefix('GST ')}, {r['looks']}",
                "type I error",
                r["rate"],
                r["se"],
                f"≤ {r['target']:.3f}",
                _within(r["rate"], r["se"], r["target"]),
            )
            for r in rows
        ]

    return run


def _decisions(name: str, fn: Callable[..., list[dict[str, Any]]]) -> Check:
    """A ``calibration_decisions`` check (false ships under the global null) as a ``Check``."""

    def run(reps: int, seed: int) -> list[Row]:
        rows = fn(reps=reps, seed=seed)
        return [
            Row(
                name,
                f"{r['method']}, {r['treatments']} treatment(s): ship {r['ship']:.4f}"
                f" + segment {r['ship_to_segment']:.4f}",
                "false ship rate",
                r["total"],
                r["mc_se"],
                f"≤ {r['alpha']}",
                _within(r["total"], r["mc_se"], r["alpha"]),
            )
            for r in rows
        ]

    return run


for _name, _fn in calibration_sequential.CHECKS.items():
    _key = _name.replace("_", "-")
    check(_key, sized_by="paths")(_sequential(_key, _fn))
for _name, _fn in calibration_decisions.CHECKS.items():
    _key = _name.replace("_", "-")
    check(_key)(_decisions(_key, _fn))


# --- output ----------------------------------------------------------------------------


def render(rows: list[Row], console: Console) -> None:
    """All rows as one rich table, one section per check."""
    table = Table(title="shipit calibration (seeded simulation)")
    for col, justify in (
        ("check", "left"),
        ("setting", "left"),
        ("figure", "left"),
        ("value", "right"),
        ("± MC se", "right"),
        ("target", "left"),
        ("", "center"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    last = None
    for r in rows:
        if last is not None and r.check != last:
            table.add_section()
        last = r.check
        mark = "[green]ok[/green]" if r.ok else "[red]off[/red]"
        se = f"{r.se:.4f}" if r.se else ""
        table.add_row(r.check, r.setting, r.figure, f"{r.value:.4f}", se, r.target, mark)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=REPS, help="simulated experiments per row")
    parser.add_argument("--paths", type=int, default=PATHS, help="paths per sequential row")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--only", choices=sorted(CHECKS), action="append", help="run this check (repeatable)"
    )
    args = parser.parse_args(argv)
    if min(args.reps, args.paths) < 100:
        parser.error("--reps and --paths must be at least 100")
    rows: list[Row] = []
    for name, fn in CHECKS.items():
        if args.only and name not in args.only:
            continue
        rows += fn(getattr(args, SIZED_BY[name]), args.seed)
    render(rows, Console(width=max(Console().width, 120)))
    off = sum(not r.ok for r in rows)
    print(
        f"{len(rows) - off} of {len(rows)} figures on target "
        f"({args.reps} experiments, {args.paths} sequential paths per row)"
    )
    return 1 if off else 0


if __name__ == "__main__":
    sys.exit(main())
