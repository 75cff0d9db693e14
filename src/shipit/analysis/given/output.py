"""``shipit stats`` as JSON: the summary of a request as the documented dict."""

from __future__ import annotations

import math
from typing import Any

from shipit._types import FloatArray
from shipit.analysis.given.model import StatsSummary
from shipit.stats.results import to_python

__all__ = ["summary_to_dict"]


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
