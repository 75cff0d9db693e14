"""``"method": "sequential"`` of ``shipit stats``: keys added to every result row.

The settings object ``"sequential"`` sits at the top level of the request (a metric may
carry its own to override it):

- ``{"kind": "msprt", "tau": τ}``: mSPRT with mixing sd τ in units of the absolute effect
  (τ/|control mean| for the relative effect);
- ``{"kind": "msprt", "horizon": N}``: τ² from the planned N units per variant (see
  :func:`shipit.stats.sequential.horizon_tau2`);
- ``{"kind": "asymptotic", "horizon": N}``: the asymptotic confidence sequence tuned to N
  units per variant;
- ``{"kind": "gst", "spending": "obf" | "pocock" | "power", "rho": 2, "looks": [...],
  "look": k}``: the Lan-DeMets design at the planned fractions ``looks``, evaluated at the
  k-th look (1-based); optional ``"futility"`` (a spending kind, one-sided) and ``"beta"``.

Rows gain ``p_value_always_valid`` (msprt, asymptotic) or ``boundary_z``, ``z`` and
``decision`` (gst; z is the Wald statistic effect/se on the scale of the boundary, so for
proportions it uses the unpooled se, unlike ``statistic``), and ``seq_ci_low``/
``seq_ci_high`` (absolute effect) with ``seq_rel_ci_low``/``seq_rel_ci_high`` (relative).
``significant`` then follows the sequential method: the corrected always-valid p-value
below alpha, or a gst efficacy stop.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from shipit._types import FloatArray
from shipit.errors import InputError
from shipit.stats.gst import GstDesign
from shipit.stats.multiple import adjust_p_values
from shipit.stats.results import to_python
from shipit.stats.sequential import asymptotic_cs, horizon_tau2, msprt
from shipit.stats.spending import SPENDING_KINDS, check_fractions

if TYPE_CHECKING:
    from shipit.analysis.given.model import StatsSummary

__all__ = ["SequentialSettings", "parse_sequential", "sequential_step"]

SEQUENTIAL_KINDS = ("msprt", "asymptotic", "gst")


@dataclass(frozen=True)
class SequentialSettings:
    """Checked ``"sequential"`` settings of one metric."""

    kind: str
    tau: float | None = None
    horizon: float | None = None
    spending: str = "obf"
    rho: float = 2.0
    looks: tuple[float, ...] = ()
    look: int = 0
    futility: str | None = None
    beta: float = 0.2


def _positive(obj: Mapping[str, Any], key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where}: field 'sequential.{key}' must be a number, got {value!r}")
    if value <= 0:
        raise InputError(f"{where}: field 'sequential.{key}' must be > 0, got {value!r}")
    return float(value)


def parse_sequential(obj: Any, where: str) -> SequentialSettings:
    """Check a ``"sequential"`` object; errors name the metric (or input) and the field."""
    if not isinstance(obj, Mapping):
        raise InputError(f"{where}: method 'sequential' needs a 'sequential' object")
    kind = obj.get("kind")
    if kind not in SEQUENTIAL_KINDS:
        raise InputError(
            f"{where}: field 'sequential.kind' is {kind!r}: "
            f"expected one of {', '.join(SEQUENTIAL_KINDS)}"
        )
    tau, horizon = _positive(obj, "tau", where), _positive(obj, "horizon", where)
    if kind == "msprt" and (tau is None) == (horizon is None):
        raise InputError(f"{where}: sequential 'msprt' needs exactly one of 'tau' or 'horizon'")
    if kind == "asymptotic" and horizon is None:
        raise InputError(f"{where}: sequential 'asymptotic' needs 'horizon' (units per variant)")
    if kind != "gst":
        return SequentialSettings(str(kind), tau=tau, horizon=horizon)
    spending = obj.get("spending", "obf")
    if spending not in SPENDING_KINDS:
        raise InputError(
            f"{where}: field 'sequential.spending' is {spending!r}: "
            f"expected one of {', '.join(SPENDING_KINDS)}"
        )
    futility = obj.get("futility")
    if futility is not None and futility not in SPENDING_KINDS:
        raise InputError(f"{where}: field 'sequential.futility' is {futility!r}")
    looks = obj.get("looks")
    if not isinstance(looks, Sequence) or isinstance(looks, str) or not looks:
        raise InputError(f"{where}: field 'sequential.looks' must be a list of fractions")
    fractions: list[float] = []
    for x in looks:
        f = _positive({"looks": x}, "looks", where)
        if f is None:
            raise InputError(f"{where}: field 'sequential.looks' must hold numbers, got null")
        fractions.append(f)
    try:
        check_fractions(fractions)
    except InputError as exc:
        raise InputError(f"{where}: field 'sequential.looks': {exc}") from exc
    look = obj.get("look")
    if isinstance(look, bool) or not isinstance(look, int) or not 1 <= look <= len(looks):
        raise InputError(
            f"{where}: field 'sequential.look' must be a look number 1..{len(looks)}, got {look!r}"
        )
    return SequentialSettings(
        "gst",
        spending=str(spending),
        rho=_positive(obj, "rho", where) or 2.0,
        looks=tuple(fractions),
        look=look,
        futility=None if futility is None else str(futility),
        beta=_positive(obj, "beta", where) or 0.2,
    )


def _settings(summary: StatsSummary) -> list[SequentialSettings]:
    """The settings of each result row: the metric's own, else the request's."""
    top = summary.input.raw.get("sequential")
    out = []
    for row in summary.rows:
        metric = summary.input.metrics[row.metric_index]
        own = metric.raw.get("sequential")
        if own is not None:
            out.append(parse_sequential(own, f"metric {metric.name!r}"))
        else:
            out.append(parse_sequential(top, "input"))
    return out


def sequential_step(summary: StatsSummary) -> list[dict[str, Any]]:
    """The sequential keys of every result row (vectorized per kind of settings)."""
    settings = _settings(summary)
    extras: list[dict[str, Any]] = [{} for _ in summary.rows]
    idx_av = [i for i, s in enumerate(settings) if s.kind != "gst"]
    if idx_av:
        _always_valid(summary, settings, idx_av, extras)
    groups: dict[SequentialSettings, list[int]] = {}
    for i, s in enumerate(settings):
        if s.kind == "gst":
            groups.setdefault(s, []).append(i)
    for s, idx in groups.items():
        _group_sequential(summary, s, idx, extras)
    return extras


def _always_valid(
    summary: StatsSummary,
    settings: list[SequentialSettings],
    idx: list[int],
    extras: list[dict[str, Any]],
) -> None:
    """mSPRT and asymptotic-sequence keys for the rows ``idx``, all rows at once."""
    res, alpha = summary.result, summary.input.alpha
    ix = np.array(idx)
    chosen = [settings[i] for i in idx]
    asymptotic = np.array([s.kind == "asymptotic" for s in chosen])
    tau = np.array([np.nan if s.tau is None else s.tau for s in chosen])
    horizon = np.array([1.0 if s.horizon is None else s.horizon for s in chosen])
    per_variant = (res.n_control[ix] + res.n_variant[ix]) / 2.0
    out: dict[str, FloatArray] = {}
    for scale, est, se in (
        ("abs", res.abs_effect[ix], res.abs_se[ix]),
        ("rel", res.rel_effect[ix], res.rel_se[ix]),
    ):
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = tau if scale == "abs" else tau / np.abs(res.mean_control[ix])
            tau2 = np.where(
                np.isnan(tau), horizon_tau2(se, per_variant, horizon, alpha=alpha), scaled**2
            )
        tau2 = np.where(np.isfinite(tau2) & (tau2 > 0), tau2, np.nan)
        m = msprt(est, se, tau2=tau2, alpha=alpha)
        a = asymptotic_cs(est, se, 2 * per_variant, expected_n=2 * horizon, alpha=alpha)
        out[f"{scale}_p"] = np.where(asymptotic, a.p_value, m.p_value)
        out[f"{scale}_lo"] = np.where(asymptotic, a.ci_low, m.ci_low)
        out[f"{scale}_hi"] = np.where(asymptotic, a.ci_high, m.ci_high)
    adjusted = adjust_p_values(out["abs_p"], summary.input.correction)
    for j, i in enumerate(idx):
        extras[i].update(
            p_value_always_valid=to_python(out["abs_p"][j]),
            seq_ci_low=to_python(out["abs_lo"][j]),
            seq_ci_high=to_python(out["abs_hi"][j]),
            seq_rel_ci_low=to_python(out["rel_lo"][j]),
            seq_rel_ci_high=to_python(out["rel_hi"][j]),
            significant=bool(np.nan_to_num(adjusted[j], nan=1.0) < alpha),
        )


def _group_sequential(
    summary: StatsSummary, s: SequentialSettings, idx: list[int], extras: list[dict[str, Any]]
) -> None:
    """Group-sequential keys for the rows ``idx`` sharing one design, per alternative."""
    by_alternative: dict[str, list[int]] = {}
    for i in idx:
        alternative = summary.input.metrics[summary.rows[i].metric_index].alternative
        by_alternative.setdefault(alternative, []).append(i)
    for alternative, sub in by_alternative.items():
        _gst_rows(summary, s, sub, alternative, extras)


def _gst_rows(
    summary: StatsSummary,
    s: SequentialSettings,
    idx: list[int],
    alternative: str,
    extras: list[dict[str, Any]],
) -> None:
    """Boundary, z, decision and repeated intervals at the design's current look."""
    res = summary.result
    sides = 2 if alternative == "two-sided" else 1
    design = GstDesign(s.spending, summary.input.alpha, sides, s.rho, s.futility, s.beta)
    final = s.look == len(s.looks)
    bounds = design.bounds(s.looks[: s.look], final=final)
    b, a = float(bounds.efficacy[-1]), float(bounds.futility[-1])
    ix = np.array(idx)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(res.abs_se[ix] > 0, res.abs_effect[ix] / res.abs_se[ix], np.nan)
    toward = -z if alternative == "less" else z
    hit = np.abs(z) >= b if sides == 2 else toward >= b
    futile = (toward <= a) | (final & ~hit)
    decision = np.where(hit, "efficacy", np.where(futile, "futility", "continue"))
    bounds_of = {}
    for scale, est, se in (
        ("", res.abs_effect[ix], res.abs_se[ix]),
        ("rel_", res.rel_effect[ix], res.rel_se[ix]),
    ):
        lo, hi = est - b * se, est + b * se
        if alternative == "greater":
            hi = np.full(ix.size, np.nan)
        elif alternative == "less":
            lo = np.full(ix.size, np.nan)
        bounds_of[scale] = (lo, hi)
    for j, i in enumerate(idx):
        ok = bool(np.isfinite(z[j]))
        extras[i].update(
            boundary_z=to_python(b),
            z=to_python(z[j]),
            decision=str(decision[j]) if ok else None,
            seq_ci_low=to_python(bounds_of[""][0][j]),
            seq_ci_high=to_python(bounds_of[""][1][j]),
            seq_rel_ci_low=to_python(bounds_of["rel_"][0][j]),
            seq_rel_ci_high=to_python(bounds_of["rel_"][1][j]),
            significant=bool(ok and hit[j]),
        )
