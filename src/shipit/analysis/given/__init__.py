"""``shipit stats``: analyze given per-variant summaries through the analysis core.

The request (README's JSON contract) is parsed in ``inputs``, compared row by row with the
metric kinds' ``compare`` (the call ``shipit analyze`` makes) in ``compute``, extended by
the method steps (``steps``: CUPED block, Bayesian, P(best); ``sequential``) and written
back as the documented dict in ``output``.
"""

from __future__ import annotations

from shipit.analysis.given.compute import METHOD_STEPS, analyze_input, run_stats
from shipit.analysis.given.inputs import MetricInput, StatsInput, parse_stats_input
from shipit.analysis.given.model import ResultRow, RowComparison, StatsSummary
from shipit.analysis.given.output import summary_to_dict

__all__ = [
    "METHOD_STEPS",
    "MetricInput",
    "ResultRow",
    "RowComparison",
    "StatsInput",
    "StatsSummary",
    "analyze_input",
    "parse_stats_input",
    "run_stats",
    "summary_to_dict",
]
