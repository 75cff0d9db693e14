"""``shipit stats`` as a library call: checked input → every comparison → JSON-ready dict.

All metric × variant comparisons of the same kind, columns and test settings go through one
vectorized ``stats.compare_moments`` call, raw and CUPED beside it: the function the moment
kinds' ``compare`` (``shipit.metrics.kinds``) calls for ``shipit analyze``; the
correction runs over all results together, and ``significant`` uses the adjusted p-value.
Method-specific steps (Bayesian, sequential) register in ``METHOD_STEPS`` and add keys to
each result through ``StatsSummary.extras``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from typing import Any

import numpy as np

from shipit.analysis.given.inputs import MetricInput, StatsInput, parse_stats_input
from shipit.analysis.given.model import ResultRow, RowComparison, StatsSummary
from shipit.analysis.given.output import summary_to_dict
from shipit.analysis.given.sequential import sequential_step
from shipit.analysis.given.steps import bayesian_step, cuped_step, prob_best_step
from shipit.errors import InputError
from shipit.stats.comparison import compare_moments
from shipit.stats.moments import Moments
from shipit.stats.multiple import adjust_p_values
from shipit.stats.results import ComparisonResult
from shipit.stats.srm import srm_test

__all__ = ["METHOD_STEPS", "analyze_input", "run_stats"]


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


def _compare_all(
    inp: StatsInput, rows: list[ResultRow]
) -> tuple[ComparisonResult, list[RowComparison]]:
    """One vectorized kind ``compare`` per (kind, columns, alternative, margin) group,
    scattered back in row order: the raw result of every row and its full comparison."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, r in enumerate(rows):
        m = inp.metrics[r.metric_index]
        key = (m.kind, m.moments.names, m.alternative, m.margin, m.relative_margin)
        groups.setdefault(key, []).append(i)
    out: dict[str, Any] = {}
    compared: list[RowComparison | None] = [None] * len(rows)
    for (kind, _, alternative, margin, relative), idx in groups.items():
        comparison = compare_moments(
            _stack(inp, [rows[i] for i in idx], control=True),
            _stack(inp, [rows[i] for i in idx], control=False),
            kind,
            alpha=inp.alpha,
            alternative=alternative,
            cuped=True,
            margin=margin,
            relative_margin=relative,
        )
        res = comparison.raw
        for pos, i in enumerate(idx):
            compared[i] = RowComparison(comparison, pos)
        for f in fields(res):
            values = getattr(res, f.name)
            if f.name not in out:
                out[f.name] = np.empty(
                    len(rows), dtype=values.dtype if f.name != "status" else object
                )
            out[f.name][idx] = values
    done = [c for c in compared if c is not None]
    if not rows:
        empty: dict[str, Any] = {f.name: np.empty(0) for f in fields(ComparisonResult)}
        empty["status"] = np.empty(0, dtype=str)
        return ComparisonResult(**empty), done
    out["status"] = out["status"].astype(str)
    return ComparisonResult(**out), done


def _stack(inp: StatsInput, rows: list[ResultRow], *, control: bool) -> Moments:
    """The control (or variant) group of each row, every column, as one Moments."""
    mats = []
    names: tuple[str, ...] = ()
    for r in rows:
        m = inp.metrics[r.metric_index]
        names = m.moments.names
        mats.append(m.moments.matrix[m.variants.index(r.control if control else r.variant)])
    return Moments(tuple(str(i) for i in range(len(rows))), names, np.stack(mats))


def analyze_input(inp: StatsInput) -> StatsSummary:
    """Run every comparison of a checked request; correction over all results; SRM."""
    if inp.method not in METHOD_STEPS:
        raise InputError(
            f"input: method {inp.method!r} is not available here; "
            f"expected one of {', '.join(METHOD_STEPS)}"
        )
    rows = _rows(inp.metrics)
    result, compared = _compare_all(inp, rows)
    adjusted = adjust_p_values(result.p_value, inp.correction)
    significant = np.asarray(np.nan_to_num(adjusted, nan=1.0) < inp.alpha, dtype=np.bool_)
    srm = None
    if inp.srm is not None:
        srm = srm_test(inp.srm.counts, inp.srm.weights, threshold=inp.srm.threshold)
    base = StatsSummary(
        inp, tuple(rows), result, adjusted, significant, srm, (), compared=tuple(compared)
    )
    extras = METHOD_STEPS[inp.method](base)
    extras = [e | c for e, c in zip(extras, cuped_step(base), strict=True)]
    per_metric = tuple(prob_best_step(base)) if inp.method == "bayesian" else ()
    return replace(base, extras=tuple(extras), metrics=per_metric)


def run_stats(data: Mapping[str, Any]) -> dict[str, Any]:
    """Parse, analyse and serialize a ``shipit stats`` request in one call."""
    return summary_to_dict(analyze_input(parse_stats_input(data)))
