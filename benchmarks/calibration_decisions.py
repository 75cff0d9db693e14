"""Calibration of the verdict: how often it ships when nothing works (the global null).

Each replication is an experiment where every variant converts at the same rate, split
into segments along two dimensions. Its overall and segment effects are computed by the
analysis' own code (``shipit.analysis.effects.row_stats``, vectorized over replications)
and turned into a verdict by ``shipit.decide.assemble``, as ``shipit analyze`` does. A
false ship is a ``ship`` or ``ship_to_segment`` verdict; its rate must stay at or below
the plan's alpha for one and for three treatments, under each method.

    python benchmarks/calibration_decisions.py [--reps 4000] [--seed 0]

``CHECKS`` names the checks; each returns rows (dicts) for the calibration table.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from shipit.analysis.effects import row_stats
from shipit.decide import (
    DecisionPolicy,
    assemble,
    effects_from_comparison,
    segment_effects_from_comparison,
)
from shipit.result.model import Analysis, Effect, SegmentEffect
from shipit.spec.metric import MetricDef
from shipit.spec.plan import AnalysisPlan
from shipit.stats.moments import Moments

__all__ = [
    "CHECKS",
    "DIMENSIONS",
    "METRIC",
    "NullDesign",
    "analyses_from_counts",
    "draw_counts",
    "false_ship_rates",
    "null_analyses",
]

METRIC = MetricDef(name="conv", event="purchase", aggregation="any")
DIMENSIONS: dict[str, tuple[float, ...]] = {
    "platform": (0.5, 0.3, 0.2),
    "country": (0.4, 0.3, 0.2, 0.1),
}


@dataclass(frozen=True)
class NullDesign:
    """One batch of null replications: how many treatments, units and which method."""

    method: str = "frequentist"
    treatments: int = 1
    reps: int = 2_000
    units_per_variant: int = 20_000
    rate: float = 0.1
    alpha: float = 0.05
    seed: int = 0


def _moments(labels: list[str], n: np.ndarray, conversions: np.ndarray) -> Moments:
    """Moments of a 0/1 metric per group: Σy = Σy² = conversions."""
    s = conversions.reshape(-1, 1)
    return Moments.from_sums(labels, ("y",), n.reshape(-1), s, s.reshape(-1, 1, 1))


def _pairs(n: np.ndarray, conv: np.ndarray, tag: str) -> tuple[Moments, Moments]:
    """Control rows against each treatment's rows: n, conv are (reps, variants, ...)."""
    k = n.shape[1] - 1
    nc = np.repeat(n[:, :1], k, axis=1).reshape(-1)
    cc = np.repeat(conv[:, :1], k, axis=1).reshape(-1)
    nv, cv = n[:, 1:].reshape(-1), conv[:, 1:].reshape(-1)
    labels = [f"{tag}{i}" for i in range(nv.size)]
    return _moments(labels, nc, cc), _moments(labels, nv, cv)


def draw_counts(design: NullDesign) -> tuple[np.ndarray, np.ndarray]:
    """Units and conversions per (replication, variant, cell of both dimensions)."""
    rng = np.random.default_rng(design.seed)
    probs = np.outer(*DIMENSIONS.values()).reshape(-1)
    shape = (design.reps, design.treatments + 1)
    n_cells = rng.multinomial(design.units_per_variant, probs, size=shape)
    return n_cells, rng.binomial(n_cells, design.rate)


def null_analyses(design: NullDesign) -> Iterator[Analysis]:
    """One ``Analysis`` per null replication, through the analysis' own effect code."""
    return analyses_from_counts(*draw_counts(design), design)


def analyses_from_counts(
    n_cells: np.ndarray, conv: np.ndarray, design: NullDesign
) -> Iterator[Analysis]:
    """The analyses of replications given their (reps, variants, cells) units and conversions.

    Variants are ``control``, ``t1``, …; segments are ``platform0``…, ``country0``…
    """
    reps, k = n_cells.shape[0], n_cells.shape[1] - 1
    variants = ["control", *(f"t{j}" for j in range(1, k + 1))]
    plan = AnalysisPlan(method=design.method, alpha=design.alpha)  # type: ignore[arg-type]
    policy = DecisionPolicy(method=design.method, primary="conv", alpha=design.alpha)  # type: ignore[arg-type]
    c, v = _pairs(n_cells.sum(-1), conv.sum(-1), "all")
    rs = row_stats(c, v, METRIC, plan, higher_is_better=True)
    post = rs.posterior
    effects = effects_from_comparison(
        rs.raw,
        metrics=["conv"] * (reps * k),
        variants=variants[1:] * reps,
        control="control",
        kinds=["proportion"] * (reps * k),
        higher_is_better=[True] * (reps * k),
        prob_better=list(post.prob_better) if post is not None else None,
        expected_loss=list(post.expected_loss_variant) if post is not None else None,
    )
    per_rep_segments: list[list[SegmentEffect]] = [[] for _ in range(reps)]
    grid = n_cells.reshape(reps, k + 1, *(len(p) for p in DIMENSIONS.values()))
    grid_conv = conv.reshape(grid.shape)
    for axis, (dim, values) in enumerate(DIMENSIONS.items()):
        other = 3 if axis == 0 else 2  # sum over the other dimension's axis
        n_seg, c_seg = grid.sum(other), grid_conv.sum(other)  # (reps, variants, values)
        c, v = _pairs(n_seg, c_seg, dim)
        srs = row_stats(c, v, METRIC, plan, higher_is_better=True, bayes=False)
        names = [f"{dim}{i}" for i in range(len(values))]
        rows = segment_effects_from_comparison(
            srs.best,
            dimension=dim,
            segments=names * (reps * k),
            metric="conv",
            variant=[x for _ in range(reps) for x in variants[1:] for _ in names],
        )
        per_rep = k * len(values)
        for r in range(reps):
            per_rep_segments[r] += rows[r * per_rep : (r + 1) * per_rep]
    for r in range(reps):
        mine: list[Effect] = effects[r * k : (r + 1) * k]
        yield assemble(
            experiment=f"null-{r}",
            control="control",
            variants=variants,
            policy=policy,
            effects=mine,
            segments=per_rep_segments[r],
        )


def false_ship_rates(design: NullDesign) -> dict[str, Any]:
    """Share of null replications shipped overall, to a segment, and in total."""
    decisions = [a.verdict.decision for a in null_analyses(design)]
    ship = sum(d == "ship" for d in decisions) / design.reps
    segment = sum(d == "ship_to_segment" for d in decisions) / design.reps
    total = ship + segment
    return {
        "check": "false ships under the global null",
        "method": design.method,
        "treatments": design.treatments,
        "reps": design.reps,
        "alpha": design.alpha,
        "ship": ship,
        "ship_to_segment": segment,
        "total": total,
        "mc_se": math.sqrt(max(total * (1 - total), 1e-12) / design.reps),
    }


def _check(method: str, treatments: int) -> Callable[..., list[dict[str, Any]]]:
    def run(reps: int = 4_000, seed: int = 0) -> list[dict[str, Any]]:
        design = NullDesign(method=method, treatments=treatments, reps=reps, seed=seed)
        return [false_ship_rates(design)]

    return run


CHECKS: dict[str, Callable[..., list[dict[str, Any]]]] = {
    f"false_ships_{method}_{k}": _check(method, k)
    for method in ("frequentist", "bayesian")
    for k in (1, 3)
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=4_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{'method':<12} {'k':>2} {'ship':>7} {'segment':>8} {'total':>7} {'± se':>7} alpha")
    for check in CHECKS.values():
        for row in check(reps=args.reps, seed=args.seed):
            print(
                f"{row['method']:<12} {row['treatments']:>2} {row['ship']:>7.4f} "
                f"{row['ship_to_segment']:>8.4f} {row['total']:>7.4f} {row['mc_se']:>7.4f} "
                f"{row['alpha']}"
            )


if __name__ == "__main__":
    main()
