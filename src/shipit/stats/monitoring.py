"""Monitoring a group-sequential experiment: the verdict at each look and its interval.

At look k with estimate θ̂_k, standard error s_k and z_k = θ̂_k/s_k, a two-sided design
stops for efficacy when |z_k| ≥ b_k, a one-sided one when z_k ≥ b_k, and for futility when
z_k ≤ a_k (non-binding: the efficacy bounds do not count on it) or, at the final look, when
it does not stop for efficacy. The repeated confidence
interval θ̂_k ± b_k·s_k (Jennison & Turnbull 1989) covers θ at every look simultaneously
with probability ≥ 1 − α, so it stays valid whenever the experiment is stopped.

Looks are the cumulative data at each analysis. Their information fractions come from the
units seen (n_k / max_n) or are given; they may drift from the planned looks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray, IntArray
from shipit.errors import InputError
from shipit.stats.estimands import GroupStats, absolute_effect, relative_effect, summarize
from shipit.stats.gst import Boundaries, GstDesign
from shipit.stats.moments import Moments

__all__ = [
    "LookOutcome",
    "Monitoring",
    "decide_looks",
    "looks_from_days",
    "monitor",
    "monitor_moments",
]

# What one look of a group-sequential test says: go on, or stop and why.
LookOutcome: TypeAlias = Literal["continue", "efficacy", "futility"]


@dataclass(frozen=True)
class Monitoring:
    """Per look (axis 0) and row (axis 1): z, the decision and the repeated interval.

    ``stop_look[r]`` is the first look (0-based) whose decision is not ``continue`` for
    row r, or −1 if the experiment may go on.
    """

    boundaries: Boundaries
    estimate: FloatArray
    se: FloatArray
    z: FloatArray
    decision: npt.NDArray[np.str_]
    stop_look: IntArray
    ci_low: FloatArray
    ci_high: FloatArray


def decide_looks(
    z: npt.ArrayLike, bounds: Boundaries, *, final: bool = False
) -> npt.NDArray[np.str_]:
    """The decision of each look (rows of z) against the bounds of the same looks.

    With ``final`` the last look is the final analysis: short of efficacy it stops the
    experiment, reported as ``futility`` (no effect shown at the planned size).
    """
    zz = np.asarray(z, dtype=np.float64)
    if zz.ndim == 1:
        zz = zz[:, None]
    if zz.shape[0] != bounds.efficacy.size:
        raise InputError(f"{zz.shape[0]} looks of z for {bounds.efficacy.size} boundaries")
    b = bounds.efficacy[:, None]
    hit = np.abs(zz) >= b if bounds.sides == 2 else zz >= b
    fut = (zz <= bounds.futility[:, None]) & ~hit
    out = np.full(zz.shape, "continue", dtype="<U8")
    out[hit] = "efficacy"
    out[fut] = "futility"
    if final:
        out[-1][~hit[-1]] = "futility"
    return out


def monitor(
    estimate: npt.ArrayLike,
    se: npt.ArrayLike,
    fractions: npt.ArrayLike,
    design: GstDesign | None = None,
    *,
    final: bool = False,
) -> Monitoring:
    """Decisions and repeated intervals for cumulative estimates at looks ``fractions``.

    ``estimate`` and ``se`` are (K,) or (K, rows); a one-sided design tests for an increase.
    With ``final`` the last look spends what is left of alpha.
    """
    est = np.asarray(estimate, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    if est.ndim == 1:
        est, s = est[:, None], s[:, None] if s.ndim == 1 else s
    if est.shape != s.shape:
        raise InputError(f"estimate has shape {est.shape} but se has shape {s.shape}")
    plan = design if design is not None else GstDesign()
    bounds = plan.bounds(fractions, final=final)
    if est.shape[0] != bounds.efficacy.size:
        raise InputError(f"{est.shape[0]} looks of estimates for {bounds.efficacy.size} fractions")
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(s > 0, est / s, np.nan)
    decision = decide_looks(z, bounds, final=final)
    decision[np.isnan(z)] = "continue"
    stopped = decision != "continue"
    stop_look = np.where(stopped.any(axis=0), stopped.argmax(axis=0), -1).astype(np.int64)
    half = bounds.efficacy[:, None] * s
    lo = est - half
    hi = est + half if plan.sides == 2 else np.full(est.shape, np.inf)
    return Monitoring(bounds, est, s, z, decision, stop_look, lo, hi)


def monitor_moments(
    looks: Sequence[Moments],
    kind: str,
    design: GstDesign | None = None,
    *,
    control: str,
    variants: str | Sequence[str],
    max_n: float | None = None,
    fractions: npt.ArrayLike | None = None,
    relative: bool = False,
    y: str = "y",
    num: str = "num",
    den: str = "den",
    final: bool = False,
) -> Monitoring:
    """Monitor from the cumulative Moments of each look (groups labelled by variant).

    Fractions are total units at each look over ``max_n`` (all variants compared), unless
    given.
    """
    if not looks:
        raise InputError("looks: at least one look of moments is needed")
    names = [variants] if isinstance(variants, str) else list(variants)
    est, se, units = [], [], []
    for m in looks:
        c = summarize(m[control], kind, y=y, num=num, den=den)
        v = summarize(m[names], kind, y=y, num=num, den=den)
        shape = v.n.shape  # the control, repeated against each variant
        c = GroupStats(*(np.broadcast_to(x, shape) for x in (c.n, c.mean, c.unit_var, c.var)))
        eff = relative_effect(c, v) if relative else absolute_effect(c, v)
        est.append(eff.estimate)
        se.append(eff.se)
        units.append(float(m[[control, *names]].n.sum()))
    if fractions is None:
        if max_n is None or not max_n > 0:
            raise InputError("give max_n (> 0, the planned units) or the looks' fractions")
        t: npt.ArrayLike = np.asarray(units) / max_n
    else:
        t = fractions
    return monitor(np.array(est), np.array(se), t, design, final=final)


def looks_from_days(days: Mapping[str, Moments], *, cumulative: bool = False) -> list[Moments]:
    """Per-look Moments (groups = variants) from each variant's Moments with a group per day.

    Day groups are matched by label, in the order of the first variant; daily increments
    are summed up to each day unless ``cumulative`` says they already are.
    """
    if not days:
        raise InputError("days: no variants given")
    first = next(iter(days.values()))
    labels = first.labels
    mats = []
    for variant, m in days.items():
        if set(m.labels) != set(labels):
            raise InputError(f"variant {variant!r} has days {list(m.labels)}, not {list(labels)}")
        mat = m[list(labels)].matrix
        mats.append(mat if cumulative else np.cumsum(mat, axis=0))
    stacked = np.stack(mats, axis=1)  # (days, variants, d, d)
    names = tuple(days)
    return [Moments(names, first.names, stacked[i]) for i in range(len(labels))]
