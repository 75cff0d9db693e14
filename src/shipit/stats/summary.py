"""``shipit stats`` as a library call: checked input → every comparison → JSON-ready dict.

All metric × variant comparisons of the same kind and test settings go through one
vectorized ``compare`` call; the correction runs over all results together, and ``significant``
uses the adjusted p-value. Method-specific steps (Bayesian, sequential) register in
``METHOD_STEPS`` and add keys to each result through ``StatsSummary.extras``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from shipit._types import BoolArray, FloatArray
from shipit.errors import InputError
from shipit.stats.frequentist import compare
from shipit.stats.inputs import VALUE_COLUMNS, MetricInput, StatsInput, parse_stats_input
from shipit.stats.moments import Moments
from shipit.stats.multiple import adjust_p_values
from shipit.stats.results import ComparisonResult, to_python
from shipit.stats.sequential_summary import sequential_step
from shipit.stats.srm import SrmResult, srm_test
from shipit.stats.summary_steps import bayesian_step, cuped_step, prob_best_step

__all__ = [
    "METHOD_STEPS",
    "ResultRow",
    "StatsSummary",
    "analyze_input",
    "run_stats",
    "summary_to_dict",
]


@dataclass(frozen=True)
class ResultRow:
    """Which comparison a result row is: metric (by position), variant and control."""

    metric_index: int
    metric: str
    kind: str
    variant: str
    control: str


@dataclass(frozen=True)
class StatsSummary:
    """Every comparison of a request, in output order, with the correction applied.

    ``extras[i]`` holds keys that method-specific steps add to result ``i``.
    """

    input: StatsInput
    rows: tuple[ResultRow, ...]
    result: ComparisonResult
    p_value_adjusted: FloatArray
    significant: BoolArray
    srm: SrmResult | None
    extras: tuple[dict[str, Any], ...]
    metrics: tuple[dict[str, Any], ...] = ()


MethodStep = Callable[[StatsSummary], list[dict[str, Any]]]


def _frequentist(summary: StatsSummary) -> list[dict[str, Any]]:
    """The frequentist core needs nothing beyond the base keys."""
    return [{} for _ in summary.rows]


# method name -> step adding keys to each result row (other methods add their entry here).
METHOD_STEPS: dict[str, MethodStep] = {
    "frequentist": _frequentist,
    "bayesian": bayesian_step,
    "sequential": sequential_step,
}


def _rows(metrics: tuple[MetricInput, ...]) -> list[ResultRow]:
    return [
        ResultRow(i, m.name, m.kind, v, m.control)
        for i, m in enumerate(metrics)
        for v in m.treatments
    ]


def _compare_all(inp: StatsInput, rows: list[ResultRow]) -> ComparisonResult:
    """One vectorized compare per (kind, alternative, margin) group, scattered back in order."""
    groups: dict[tuple[str, str, float | None, bool], list[int]] = {}
    for i, r in enumerate(rows):
        m = inp.metrics[r.metric_index]
        groups.setdefault((m.kind, m.alternative, m.margin, m.relative_margin), []).append(i)
    out: dict[str, Any] = {}
    for (kind, alternative, margin, relative), idx in groups.items():
        cols = VALUE_COLUMNS[kind]
        control = _stack(inp, [rows[i] for i in idx], cols, control=True)
        variant = _stack(inp, [rows[i] for i in idx], cols, control=False)
        res = compare(
            control,
            variant,
            kind,
            alpha=inp.alpha,
            alternative=alternative,
            margin=margin,
            relative_margin=relative,
        )
        for f in fields(res):
            values = getattr(res, f.name)
            if f.name not in out:
                out[f.name] = np.empty(
                    len(rows), dtype=values.dtype if f.name != "status" else object
                )
            out[f.name][idx] = values
    if not rows:
        empty: dict[str, Any] = {f.name: np.empty(0) for f in fields(ComparisonResult)}
        empty["status"] = np.empty(0, dtype=str)
        return ComparisonResult(**empty)
    out["status"] = out["status"].astype(str)
    return ComparisonResult(**out)


def _stack(
    inp: StatsInput, rows: list[ResultRow], cols: tuple[str, ...], *, control: bool
) -> Moments:
    """The control (or variant) group of each row, value columns only, as one Moments."""
    d = 1 + len(cols)  # value columns come first in z, right after the constant
    mats = np.empty((len(rows), d, d))
    for j, r in enumerate(rows):
        m = inp.metrics[r.metric_index]
        g = m.variants.index(r.control if control else r.variant)
        mats[j] = m.moments.matrix[g, :d, :d]
    return Moments(tuple(str(i) for i in range(len(rows))), cols, mats)


def analyze_input(inp: StatsInput) -> StatsSummary:
    """Run every comparison of a checked request; correction over all results; SRM."""
    if inp.method not in METHOD_STEPS:
        raise InputError(
            f"input: method {inp.method!r} is not available here; "
            f"expected one of {', '.join(METHOD_STEPS)}"
        )
    rows = _rows(inp.metrics)
    result = _compare_all(inp, rows)
    adjusted = adjust_p_values(result.p_value, inp.correction)
    significant = np.asarray(np.nan_to_num(adjusted, nan=1.0) < inp.alpha, dtype=np.bool_)
    srm = None
    if inp.srm is not None:
        srm = srm_test(inp.srm.counts, inp.srm.weights, threshold=inp.srm.threshold)
    base = StatsSummary(inp, tuple(rows), result, adjusted, significant, srm, ())
    extras = METHOD_STEPS[inp.method](base)
    extras = [e | c for e, c in zip(extras, cuped_step(base), strict=True)]
    per_metric = tuple(prob_best_step(base)) if inp.method == "bayesian" else ()
    return StatsSummary(
        inp, tuple(rows), result, adjusted, significant, srm, tuple(extras), per_metric
    )


def _column(values: FloatArray) -> list[float | None]:
    """An array as JSON numbers: NaN and infinities become None."""
    return [v if math.isfinite(v) else None for v in values.tolist()]


def _count(v: float | None) -> int | float | None:
    """A unit count as an int when it is whole."""
    return int(v) if v is not None and v.is_integer() and abs(v) < 2**53 else v


def summary_to_dict(summary: StatsSummary) -> dict[str, Any]:
    """The JSON contract of ``shipit stats``: ``{"srm": ..., "results": [...]}`` and settings."""
    inp, res = summary.input, summary.result
    srm: dict[str, Any] | None = None
    if summary.srm is not None and inp.srm is not None:
        srm = {
            "chi2": to_python(summary.srm.chi2[0]),
            "df": summary.srm.df,
            "p_value": to_python(summary.srm.p_value[0]),
            "mismatch": bool(summary.srm.mismatch[0]),
            "threshold": summary.srm.threshold,
            "counts": dict(
                zip(inp.srm.variants, map(_count, _column(inp.srm.counts)), strict=True)
            ),
        }
    names = (
        "mean_control",
        "mean_variant",
        "abs_effect",
        "abs_se",
        "abs_ci_low",
        "abs_ci_high",
        "rel_effect",
        "rel_se",
        "rel_ci_low",
        "rel_ci_high",
        "statistic",
        "df",
        "p_value",
    )
    columns = {name: _column(getattr(res, name)) for name in names}
    n_control, n_variant = _column(res.n_control), _column(res.n_variant)
    adjusted = _column(summary.p_value_adjusted)
    cohens_d = _column(res.cohens_d)
    significant = summary.significant.tolist()
    status = res.status.tolist()
    results = []
    for i, row in enumerate(summary.rows):
        record: dict[str, Any] = {
            "metric": row.metric,
            "kind": row.kind,
            "variant": row.variant,
            "control": row.control,
            "n_control": _count(n_control[i]),
            "n_variant": _count(n_variant[i]),
        }
        for name in names:
            record[name] = columns[name][i]
        record["p_value_adjusted"] = adjusted[i]
        record["significant"] = bool(significant[i])
        record["cohens_d"] = cohens_d[i]
        record["status"] = str(status[i])
        if summary.extras:
            record.update(summary.extras[i])
        results.append(record)
    return {
        "alpha": inp.alpha,
        "alternative": inp.alternative,
        "correction": inp.correction,
        "method": inp.method,
        "srm": srm,
        "results": results,
    } | ({"metrics": list(summary.metrics)} if summary.metrics else {})


def run_stats(data: Mapping[str, Any]) -> dict[str, Any]:
    """Parse, analyse and serialize a ``shipit stats`` request in one call."""
    return summary_to_dict(analyze_input(parse_stats_input(data)))
