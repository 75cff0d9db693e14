"""Sequential bounds of an analysis, per variant: group-sequential or always valid.

``kind: gst``: the current look's z bound comes from the plan's spending function over every
look taken so far (:func:`looks_taken`), so that analysing at each planned look reproduces
the planned design and an extra look spends alpha at its own fraction. Each variant is its
own comparison with its own information fraction. The daily table reads each day as a look
of that variant's comparison (:func:`cumulative_bounds`).

``kind: msprt``: the always-valid confidence sequence at the current look; it needs no
count of looks. Bounds are on the relative effect (lift), like the interval.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from shipit._types import FloatArray
from shipit.analysis.effects import SPENDING
from shipit.errors import SpecError
from shipit.spec.plan import AnalysisPlan, SequentialPlan
from shipit.stats.gst import GstDesign
from shipit.stats.sequential import msprt

__all__ = [
    "LOOK_TOLERANCE",
    "Bounds",
    "cumulative_bounds",
    "current_bounds",
    "information_fraction",
    "looks_taken",
    "recorded_looks",
]

# Looks closer than this (in information fraction) are one look: the same data read twice.
LOOK_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Bounds:
    """Sequential bounds on the relative effect per row, the statistic and the crossing."""

    low: FloatArray
    high: FloatArray
    statistic: FloatArray
    fraction: FloatArray
    crossed: list[str]


def information_fraction(
    n_control: npt.ArrayLike, n_variant: npt.ArrayLike, seq: SequentialPlan
) -> FloatArray:
    """Information of each comparison over the plan's: 2·n_c·n_v/(n_c + n_v) / horizon.

    The harmonic mean of the arms' units is the per-arm size of an equal split with the same
    information, so it is n/horizon when the arms are equal; 0 when an arm is empty. It may
    exceed 1 when the experiment runs past its horizon. Without a horizon it is NaN (mSPRT)
    or a SpecError (GST, whose bounds need it).
    """
    nc = np.asarray(n_control, dtype=np.float64)
    nv = np.asarray(n_variant, dtype=np.float64)
    if seq.horizon is None:
        if seq.kind == "gst":
            raise SpecError(
                "analysis.sequential.horizon: required when sequential.kind is 'gst' "
                "(the planned units per variant at the last look)"
            )
        return np.full(np.broadcast(nc, nv).shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        both = np.where((nc > 0) & (nv > 0), 2.0 * nc * nv / (nc + nv), 0.0)
    return np.asarray(both / float(seq.horizon), dtype=np.float64)


def looks_taken(t: float, seq: SequentialPlan, recorded: Sequence[float] = ()) -> FloatArray:
    """Information fractions of every look taken up to the current one at ``t`` (last).

    Earlier looks are the ``recorded`` analyses below t when there are any, preceded by the
    plan's looks k/looks (k < looks) below the first recorded one; with no record, the plan's
    looks below t. The plan's last look is the current one once t reaches it. Looks within
    ``LOOK_TOLERANCE`` of a later one are the same look.
    """
    planned = np.arange(1, seq.looks, dtype=np.float64) / seq.looks
    rec = np.sort(np.asarray([r for r in recorded if np.isfinite(r) and r > 0], dtype=np.float64))
    prior = (
        np.concatenate([planned[planned < rec[0] - LOOK_TOLERANCE], rec]) if rec.size else planned
    )
    out = [float(t)]
    for f in np.sort(prior)[::-1]:
        if f < out[-1] - LOOK_TOLERANCE:
            out.append(float(f))
    return np.asarray(out[::-1], dtype=np.float64)


@lru_cache(maxsize=4096)
def _last_bound(looks: tuple[float, ...], spending: str, alpha: float) -> float:
    """The z bound at the last of ``looks`` (two-sided) under a spending function."""
    design = GstDesign(spending=spending, alpha=alpha)
    return float(design.bounds(np.asarray(looks), final=False).efficacy[-1])


def _key(looks: FloatArray) -> tuple[float, ...]:
    return tuple(round(float(f), 12) for f in looks)


def current_bounds(
    rel: npt.ArrayLike,
    rel_se: npt.ArrayLike,
    n_control: npt.ArrayLike,
    n_variant: npt.ArrayLike,
    plan: AnalysisPlan,
    *,
    recorded: Sequence[Sequence[float]] | None = None,
) -> Bounds:
    """Bounds of independent comparisons (one row per variant), each at its current look.

    ``recorded[i]`` holds the fractions of the looks already taken of row i (see
    :func:`looks_taken`); None: the plan's schedule for every row.
    """
    seq = plan.sequential
    frac = information_fraction(n_control, n_variant, seq)
    if seq.kind == "msprt":
        return _msprt(rel, rel_se, frac, plan)
    spending = SPENDING[seq.spending]
    z = np.full(frac.shape, np.nan)
    for i, t in enumerate(frac):
        if np.isfinite(t) and t > 0:
            looks = looks_taken(float(t), seq, recorded[i] if recorded is not None else ())
            z[i] = _last_bound(_key(looks), spending, plan.alpha)
    return _gst(rel, rel_se, frac, z)


def cumulative_bounds(
    rel: npt.ArrayLike,
    rel_se: npt.ArrayLike,
    n_control: npt.ArrayLike,
    n_variant: npt.ArrayLike,
    plan: AnalysisPlan,
) -> Bounds:
    """Bounds of successive looks of one comparison (rows are cumulative days, in order).

    Each row with data is a look at its own fraction; a row whose fraction did not grow is
    the same look as the one before it and gets its bound.
    """
    seq = plan.sequential
    frac = information_fraction(n_control, n_variant, seq)
    if seq.kind == "msprt":
        return _msprt(rel, rel_se, frac, plan)
    z = np.full(frac.shape, np.nan)
    rows = [i for i, t in enumerate(frac) if np.isfinite(t) and t > 0]
    looks: list[float] = []
    owner: list[int] = []  # the look each row with data reads
    for i in rows:
        if looks and frac[i] < looks[-1] + LOOK_TOLERANCE:
            owner.append(len(looks) - 1)
            continue
        looks.append(float(frac[i]))
        owner.append(len(looks) - 1)
    if looks:
        design = GstDesign(spending=SPENDING[seq.spending], alpha=plan.alpha)
        b = design.bounds(np.asarray(looks), final=False).efficacy
        z[rows] = b[owner]
    return _gst(rel, rel_se, frac, z)


def _gst(
    rel: npt.ArrayLike, rel_se: npt.ArrayLike, frac: FloatArray, z_bound: FloatArray
) -> Bounds:
    """Bounds ±b·se on the lift; a row crosses when its lift is beyond one of them."""
    r = np.asarray(rel, dtype=np.float64)
    se = np.asarray(rel_se, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = r / se
        high = z_bound * se
    low = -high
    crossed = [
        "upper" if z_i >= b else "lower" if z_i <= -b else "none"
        for z_i, b in zip(
            np.nan_to_num(z, nan=0.0), np.nan_to_num(z_bound, nan=np.inf), strict=True
        )
    ]
    return Bounds(low, high, z, frac, crossed)


def _msprt(
    rel: npt.ArrayLike, rel_se: npt.ArrayLike, frac: FloatArray, plan: AnalysisPlan
) -> Bounds:
    """The always-valid interval of each row at its own look (rows are independent)."""
    seq = plan.sequential
    r = np.asarray(rel, dtype=np.float64)
    se = np.asarray(rel_se, dtype=np.float64)
    tau2 = seq.tau if seq.tau is not None else (plan.mde or 0.05) ** 2
    av = msprt(r, se, tau2=tau2, alpha=plan.alpha)
    low, high = np.asarray(av.ci_low), np.asarray(av.ci_high)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = r / se
    crossed = [
        "upper" if lo > 0 else "lower" if hi < 0 else "none"
        for lo, hi in zip(
            np.nan_to_num(low, nan=-np.inf), np.nan_to_num(high, nan=np.inf), strict=True
        )
    ]
    return Bounds(low, high, z, frac, crossed)


def recorded_looks(bodies: Iterable[str], primary: str | None = None) -> dict[str, list[float]]:
    """Information fractions of the stored analyses (their JSON), per variant, oldest first.

    Read from the primary metric's sequential bounds; analyses without them are skipped.
    """
    out: dict[str, list[float]] = {}
    for body in bodies:
        try:
            data = json.loads(body)
        except (TypeError, ValueError):
            continue
        if not isinstance(data, Mapping):
            continue
        metric = primary or data.get("primary")
        for e in data.get("effects") or ():
            seq = e.get("sequential") if isinstance(e, Mapping) else None
            if not isinstance(seq, Mapping) or e.get("metric") != metric:
                continue
            f = seq.get("information_fraction")
            if isinstance(f, (int, float)) and np.isfinite(f) and f > 0:
                out.setdefault(str(e.get("variant")), []).append(float(f))
    return out
