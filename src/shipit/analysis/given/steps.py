"""CUPED and Bayesian additions to the ``shipit stats`` summary, vectorized over results.

- A metric with covariates gets a ``cuped`` block per result: θ, the variance reduction and
  the adjusted means, effects, intervals and p-value, next to the unadjusted keys.
- ``"method": "bayesian"`` adds ``prob_better``, ``expected_loss_variant``,
  ``expected_loss_control`` and ``cred_low``/``cred_high`` (relative effect) per result, and
  per metric the prior used and, with more than two variants, ``prob_best``.

Proportions without covariates use the Beta-Binomial model (expected loss in absolute
rate); other metrics the Normal model on the relative effect (expected loss relative), on
CUPED-adjusted estimates when the metric has covariates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from shipit._types import FloatArray
from shipit.analysis.given.inputs import MetricInput
from shipit.errors import InputError
from shipit.stats.bayesian import (
    NormalPrior,
    decide,
    prob_best_beta,
    prob_best_normal,
)
from shipit.stats.beta_binomial import BetaPrior, compare_beta
from shipit.stats.comparison import normal_posterior
from shipit.stats.estimands import Effect, GroupStats, relative_effect
from shipit.stats.results import to_python

if TYPE_CHECKING:
    from shipit.analysis.given.model import StatsSummary

__all__ = ["bayesian_step", "cuped_step", "metric_priors", "prob_best_step"]

CUPED_KEYS = (
    "mean_control",
    "mean_variant",
    "abs_effect",
    "abs_ci_low",
    "abs_ci_high",
    "rel_effect",
    "rel_ci_low",
    "rel_ci_high",
    "p_value",
)


def _rows_stats(summary: StatsSummary, idx: list[int]) -> tuple[GroupStats, GroupStats, Effect]:
    """The group estimates the kind's comparison of each row starts from (CUPED-adjusted
    where it ran) and the relative effect (CUPED's own, for correlated adjusted means)."""
    picked = [summary.compared[i] for i in idx]

    def gather(control: bool) -> GroupStats:
        groups = [rc.comparison.control if control else rc.comparison.variant for rc in picked]
        cols = {
            f: np.array([getattr(g, f)[rc.at] for g, rc in zip(groups, picked, strict=True)])
            for f in ("n", "mean", "unit_var", "var")
        }
        return GroupStats(**cols)

    c, v = gather(True), gather(False)
    eff = relative_effect(c, v)
    est, se = eff.estimate.copy(), eff.se.copy()
    for pos, rc in enumerate(picked):
        own = rc.comparison.relative
        if own is not None:
            est[pos], se[pos] = own.estimate[rc.at], own.se[rc.at]
    return c, v, Effect(est, se)


def cuped_step(summary: StatsSummary) -> list[dict[str, Any]]:
    """The ``cuped`` block of every result whose metric has covariates (others get none)."""
    extras: list[dict[str, Any]] = [{} for _ in summary.rows]
    for i, rc in enumerate(summary.compared):
        adj, res, pos = rc.comparison.cuped, rc.comparison.adjusted, rc.at
        if adj is None or res is None:
            continue
        block: dict[str, Any] = {
            "theta": [to_python(t) for t in adj.theta[pos]],
            "variance_reduction": to_python(adj.variance_reduction[pos]),
        }
        block.update({k: to_python(getattr(res, k)[pos]) for k in CUPED_KEYS})
        block["equivalent_n"] = to_python(adj.equivalent_n[pos])
        block["covariates_used"] = [bool(u) for u in adj.used[pos]]
        block["adjustment_status"] = str(adj.status[pos])
        block["status"] = str(res.status[pos])
        extras[i] = {"cuped": block}
    return extras


# --- Bayesian ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prior:
    """The prior a metric uses, and its JSON echo."""

    beta: BetaPrior | None
    normal: NormalPrior
    echo: dict[str, Any]


def _parse_prior(metric: MetricInput) -> _Prior:
    raw = metric.raw.get("prior")
    where = f"metric {metric.name!r}: field 'prior'"
    beta_model = metric.kind == "proportion" and not metric.covariates
    if raw is None:
        if beta_model:
            return _Prior(BetaPrior(), NormalPrior(), {"kind": "beta", "a": 1.0, "b": 1.0})
        return _Prior(None, NormalPrior(), {"kind": "normal", "flat": True, "scale": "relative"})
    if not isinstance(raw, Mapping):
        raise InputError(f"{where} must be an object")
    kind = raw.get("kind")
    try:
        if kind == "beta":
            if not beta_model:
                raise InputError(f"{where}: a beta prior fits proportions without covariates only")
            a, b = float(raw.get("a", 1.0)), float(raw.get("b", 1.0))
            return _Prior(BetaPrior(a, b), NormalPrior(), {"kind": "beta", "a": a, "b": b})
        if kind == "normal":
            mean = float(raw.get("mean", 0.0))
            sd = float(raw.get("sd", float("inf")))
            scale = str(raw.get("scale", "relative"))
            prior = NormalPrior(mean, sd, scale)  # type: ignore[arg-type]
            echo = {"kind": "normal", "mean": mean, "sd": to_python(sd), "scale": scale}
            return _Prior(None, prior, echo)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from exc
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from exc
    raise InputError(f"{where}: 'kind' is {kind!r}: expected 'beta' or 'normal'")


def metric_priors(summary: StatsSummary) -> list[_Prior]:
    """The prior of every metric (checked), in input order."""
    return [_parse_prior(m) for m in summary.input.metrics]


def _decision_settings(summary: StatsSummary) -> tuple[float, float]:
    raw = summary.input.raw.get("decision") or {}
    if not isinstance(raw, Mapping):
        raise InputError("input: field 'decision' must be an object")
    try:
        return float(raw.get("threshold", 0.95)), float(raw.get("tolerance", 0.001))
    except (TypeError, ValueError) as exc:
        raise InputError(f"input: field 'decision': {exc}") from exc


def bayesian_step(summary: StatsSummary) -> list[dict[str, Any]]:
    """Posterior P(better), expected losses, relative credible interval and ship rule."""
    priors = metric_priors(summary)
    threshold, tolerance = _decision_settings(summary)
    extras: list[dict[str, Any]] = [{} for _ in summary.rows]
    beta_rows: dict[tuple[float, float, bool], list[int]] = {}
    normal_rows: dict[tuple[Any, ...], list[int]] = {}
    for i, r in enumerate(summary.rows):
        p = priors[r.metric_index]
        higher = summary.input.metrics[r.metric_index].alternative != "less"
        names = summary.input.metrics[r.metric_index].moments.names
        if p.beta is not None:
            beta_rows.setdefault((p.beta.a, p.beta.b, higher), []).append(i)
        else:
            n = p.normal
            group = (n.mean, n.sd, n.scale, higher, r.kind, names)
            normal_rows.setdefault(group, []).append(i)
    for (a, b, higher), idx in beta_rows.items():
        c, v, _ = _rows_stats(summary, idx)  # proportions without covariates: raw
        res = compare_beta(
            _successes(c), c.n, _successes(v), v.n, prior=BetaPrior(a, b), higher_is_better=higher
        )
        for pos, i in enumerate(idx):
            extras[i] = {
                "prob_better": res.prob_better[pos],
                "expected_loss_variant": res.expected_loss_variant[pos],
                "expected_loss_control": res.expected_loss_control[pos],
                "cred_low": res.rel_cred_low[pos],
                "cred_high": res.rel_cred_high[pos],
                "bayes_model": "beta",
                "expected_loss_scale": "absolute",
            }
    for (mean, sd, scale, higher, _, _), idx in normal_rows.items():
        c, v, effect = _rows_stats(summary, idx)
        prior = NormalPrior(mean, sd, scale)
        res_n = normal_posterior(c, v, effect, prior=prior, higher_is_better=higher)
        for pos, i in enumerate(idx):
            extras[i] = {
                "prob_better": res_n.prob_better[pos],
                "expected_loss_variant": res_n.expected_loss_variant[pos],
                "expected_loss_control": res_n.expected_loss_control[pos],
                "cred_low": res_n.cred_low[pos],
                "cred_high": res_n.cred_high[pos],
                "bayes_model": "normal"
                if summary.compared[i].comparison.cuped is None
                else "normal_cuped",
                "expected_loss_scale": "relative",
            }
    probs = np.array([e["prob_better"] for e in extras], dtype=np.float64)
    losses = np.array([e["expected_loss_variant"] for e in extras], dtype=np.float64)
    verdict = decide(probs, losses, threshold=threshold, tolerance=tolerance)
    for i, e in enumerate(extras):
        for key in list(e):
            e[key] = to_python(e[key])
        e["ship"] = bool(verdict.ship[i])
        e["ship_reason"] = str(verdict.reason[i])
    return extras


def _successes(g: GroupStats) -> FloatArray:
    """Σy of a proportion back from its mean, kept inside [0, n] against rounding."""
    out: FloatArray = np.clip(np.nan_to_num(g.mean * g.n), 0.0, g.n)
    return out


def prob_best_step(summary: StatsSummary) -> list[dict[str, Any]]:
    """Per metric: its prior and, with more than two variants, P(best) and loss vs best.

    Metrics sharing a model, a variant count and a direction are drawn as one batch.
    """
    priors = metric_priors(summary)
    by_metric: dict[int, list[int]] = {}
    for i, r in enumerate(summary.rows):
        by_metric.setdefault(r.metric_index, []).append(i)
    seed = int(summary.input.raw.get("seed", 0))
    out: list[dict[str, Any]] = []
    batches: dict[tuple[Any, ...], list[int]] = {}
    for mi, metric in enumerate(summary.input.metrics):
        out.append({"metric": metric.name, "prior": priors[mi].echo})
        idx = by_metric.get(mi, [])
        if len(metric.variants) > 2 and idx:
            beta = priors[mi].beta
            model = ("beta", beta.a, beta.b) if beta is not None else ("normal",)
            # stacked together, so the same columns too
            key = (*model, metric.moments.names, len(idx), metric.alternative != "less")
            batches.setdefault(key, []).append(mi)
    for key, metrics in batches.items():
        rows = [i for mi in metrics for i in by_metric[mi]]
        best, loss = _prob_best(summary, rows, key, seed)
        for j, mi in enumerate(metrics):
            first = summary.rows[by_metric[mi][0]]
            labels = [first.control, *(summary.rows[i].variant for i in by_metric[mi])]
            out[mi]["prob_best"] = {k: to_python(p) for k, p in zip(labels, best[j], strict=True)}
            out[mi]["expected_loss_vs_best"] = {
                k: to_python(x) for k, x in zip(labels, loss[j], strict=True)
            }
    return out


def _prob_best(
    summary: StatsSummary,
    rows: list[int],
    key: tuple[Any, ...],
    seed: int,
) -> tuple[FloatArray, FloatArray]:
    """P(best) and loss vs best of metrics with the same shape: (metrics, variants) arrays."""
    treatments, higher = key[-2], key[-1]
    c, v, _ = _rows_stats(summary, rows)

    def table(control: FloatArray, variants: FloatArray) -> FloatArray:
        out: FloatArray = np.column_stack([control[::treatments], variants.reshape(-1, treatments)])
        return out

    means, var = table(c.mean, v.mean), table(c.var, v.var)
    if key[0] == "beta":
        n = table(c.n, v.n)
        s = np.clip(np.nan_to_num(means * n), 0.0, n)
        a, b = key[1], key[2]
        return prob_best_beta(a + s, b + n - s, seed=seed, higher_is_better=higher)
    return prob_best_normal(means, np.sqrt(var), seed=seed, higher_is_better=higher)
