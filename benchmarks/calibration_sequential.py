"""Type I error of group-sequential verdicts, by seeded simulation through the analysis core.

Null experiments (a 0/1 metric at 20% in both arms) are analysed look after look with what
``analyze`` runs from the moments on: ``row_stats``, then the pipeline's sequential step
(each variant's bound at its current look) or, for the daily table, the cumulative bounds
of each day. A path is a false positive when any look crosses a bound. Each check returns
rows (check, looks, paths, rate, its standard error, target); ``CHECKS`` names them.

Run: ``python benchmarks/calibration_sequential.py [--paths 20000] [--seed 2026]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from shipit.analysis.effects import row_stats
from shipit.analysis.pipeline import _overall_sequential
from shipit.analysis.sequential import cumulative_bounds
from shipit.spec.experiment import Experiment, Variant
from shipit.spec.metric import MetricDef
from shipit.spec.plan import AnalysisPlan, SequentialPlan
from shipit.stats.moments import Moments

__all__ = [
    "CHECKS",
    "daily_looks",
    "extra_look",
    "planned_looks",
    "three_treatments",
]

Row = dict[str, Any]
METRIC = MetricDef(name="converted", event="convert", aggregation="any")
P = 0.2  # the conversion rate of every arm
BATCH = 2_000  # units per arm between two planned looks


def _plan(spending: str, looks: int, horizon: int, alpha: float = 0.05) -> AnalysisPlan:
    # Rows are independent paths here, not one experiment's treatments: no correction
    # across rows; the three-treatment check sets the pipeline's α/k itself.
    return AnalysisPlan(
        method="sequential",
        cuped=False,
        correction="none",
        alpha=alpha,
        sequential=SequentialPlan(kind="gst", horizon=horizon, looks=looks, spending=spending),
    )


def _experiment(plan: AnalysisPlan, treatments: int = 1) -> Experiment:
    arms = treatments + 1
    return Experiment(
        key="gst-null",
        variants=tuple(Variant(key=f"v{i}", weight=1.0 / arms) for i in range(arms)),
        metrics=(METRIC,),
        primary_metric="converted",
        analysis=plan,
    )


def _moments(label: str, n: np.ndarray, s: np.ndarray) -> Moments:
    """Moments of a 0/1 metric: n, Σy and Σy² = Σy per row."""
    m = np.empty((n.size, 2, 2))
    m[:, 0, 0] = n
    m[:, 0, 1] = m[:, 1, 0] = m[:, 1, 1] = s
    return Moments(tuple(f"{label}{i}" for i in range(n.size)), ("y",), m)


def _cumulative(rng: np.random.Generator, sizes: Sequence[int], paths: int) -> np.ndarray:
    """Cumulative successes of one arm at each look (rows) of every path (columns)."""
    steps = np.diff(np.r_[0, np.asarray(sizes)])
    return np.cumsum(rng.binomial(steps[:, None], P, size=(len(sizes), paths)), axis=0)


def _null_hits(
    plan: AnalysisPlan,
    sizes: Sequence[int],
    paths: int,
    seed: int,
    *,
    treatments: int = 1,
    recorded: bool = False,
) -> np.ndarray:
    """(paths, treatments): whether each null comparison crosses at one of the looks.

    Looks are at ``sizes`` units per arm; ``recorded``: earlier looks are passed as the
    registry would pass them, else the plan's schedule stands in for them.
    """
    exp = _experiment(plan, treatments)
    rng = np.random.default_rng(seed)
    sc = _cumulative(rng, sizes, paths)
    sv = [_cumulative(rng, sizes, paths) for _ in range(treatments)]
    hit = np.zeros((paths, treatments), dtype=bool)
    taken: list[float] = []
    for k, size in enumerate(sizes):
        n = np.full(paths * treatments, float(size))
        c = _moments("c", n, np.tile(sc[k], treatments).astype(float))
        v = _moments("v", n, np.concatenate([s[k] for s in sv]).astype(float))
        rs = row_stats(c, v, METRIC, plan, higher_is_better=True)
        looks = [taken] * n.size if recorded else None
        seq = _overall_sequential(rs, exp, looks)
        crossed = np.array([b.crossed != "none" for b in seq]).reshape(treatments, paths)
        hit |= crossed.T
        taken = [*taken, float(seq[0].information_fraction or 0.0)]
    return hit


def _row(check: str, looks: str, rate: np.ndarray, target: float = 0.05) -> Row:
    r = float(rate.mean())
    return {
        "check": check,
        "looks": looks,
        "paths": int(rate.size),
        "rate": r,
        "se": float(np.sqrt(r * (1 - r) / rate.size)),
        "target": target,
    }


def planned_looks(paths: int = 20_000, seed: int = 2026) -> list[Row]:
    """Analysed at every planned look: O'Brien-Fleming K=4 and Pocock K=5."""
    rows = []
    for spending, k in (("obrien_fleming", 4), ("pocock", 5)):
        sizes = [BATCH * (i + 1) for i in range(k)]
        hit = _null_hits(_plan(spending, k, BATCH * k), sizes, paths, seed + k)
        rows.append(_row(f"GST {spending}, every planned look", f"{k} planned", hit[:, 0]))
    return rows


def extra_look(paths: int = 20_000, seed: int = 2026) -> list[Row]:
    """OBF K=4 with an unplanned look at 0.6: recorded in the registry, or not."""
    sizes = [2_000, 4_000, 4_800, 6_000, 8_000]
    plan = _plan("obrien_fleming", 4, 8_000)
    rows = []
    for recorded in (True, False):
        hit = _null_hits(plan, sizes, paths, seed, recorded=recorded)
        how = "recorded" if recorded else "not recorded (plan's schedule assumed)"
        rows.append(_row(f"GST OBF, extra look at 0.6 {how}", "4 planned + 1", hit[:, 0]))
    return rows


def daily_looks(paths: int = 20_000, seed: int = 2026, days: int = 14) -> list[Row]:
    """The daily table's bounds: every day a look, the horizon at the last day.

    Every path has the same units per day, so the days' z bounds (from the daily table's
    own function) are computed once and each path's daily z is held against them. The
    bounds are exact (0.050 on Brownian paths); at a few hundred conversions on the first
    day the relative-lift statistic's own tails add a little (0.054 at 100 per arm).
    """
    rows = []
    per_day = 2_000
    sizes = [per_day * (d + 1) for d in range(days)]
    n = np.asarray(sizes, dtype=float)
    for spending in ("obrien_fleming", "pocock"):
        plan = _plan(spending, 4, per_day * days)
        z_bound = cumulative_bounds(np.zeros(days), np.ones(days), n, n, plan).high
        rng = np.random.default_rng(seed)
        sc, sv = _cumulative(rng, sizes, paths), _cumulative(rng, sizes, paths)
        hit = np.zeros(paths, dtype=bool)
        for d in range(days):
            nd = np.full(paths, n[d])
            rs = row_stats(
                _moments("c", nd, sc[d].astype(float)),
                _moments("v", nd, sv[d].astype(float)),
                METRIC,
                plan,
                higher_is_better=True,
            )
            z = np.asarray(rs.best.rel_effect) / np.asarray(rs.best.rel_se)
            hit |= np.abs(z) >= z_bound[d]
        rows.append(_row(f"GST {spending}, daily table", f"{days} days", hit))
    return rows


def three_treatments(paths: int = 10_000, seed: int = 2026) -> list[Row]:
    """OBF K=4 with three null treatments: per comparison, and any of the three."""
    sizes = [BATCH * (i + 1) for i in range(4)]
    # analyze bounds each of k treatments at α/k (Bonferroni): the family stays within α
    plan = _plan("obrien_fleming", 4, BATCH * 4, alpha=0.05 / 3)
    hit = _null_hits(plan, sizes, paths, seed, treatments=3)
    return [
        _row("GST OBF, 3 treatments, each at α/3", "4 planned", hit.ravel(), 0.05 / 3),
        _row("GST OBF, 3 treatments, any of the three", "4 planned", hit.any(axis=1), 0.05),
    ]


CHECKS: dict[str, Callable[..., list[Row]]] = {
    "gst_planned_looks": planned_looks,
    "gst_extra_look": extra_look,
    "gst_daily_looks": daily_looks,
    "gst_three_treatments": three_treatments,
}


def table(rows: Sequence[Row]) -> Table:
    """The rows as a rich table."""
    t = Table(title="Group-sequential type I error (null experiments, seeded)")
    for col in ("check", "looks", "paths", "rate", "± se", "target"):
        t.add_column(col, justify="left" if col in ("check", "looks") else "right")
    for r in rows:
        t.add_row(
            r["check"],
            r["looks"],
            f"{r['paths']:,}",
            f"{r['rate']:.4f}",
            f"{r['se']:.4f}",
            f"{r['target']:.3f}",
        )
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rows: list[Row] = []
    for check in CHECKS.values():
        rows += check(paths=args.paths, seed=args.seed)
    Console().print(table(rows))


if __name__ == "__main__":
    main()
