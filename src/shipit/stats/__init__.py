"""Pure numerics on sufficient statistics (Moments): no I/O, no raw rows, vectorized."""

from __future__ import annotations

from shipit.stats.estimands import GroupStats, summarize
from shipit.stats.frequentist import compare, compare_stats
from shipit.stats.gst import Boundaries, GstDesign, classical_bounds, spending_bounds
from shipit.stats.moments import Moments
from shipit.stats.monitoring import Monitoring, looks_from_days, monitor, monitor_moments
from shipit.stats.multiple import adjust_p_values
from shipit.stats.power import (
    PowerPlan,
    days_needed,
    mde_mean,
    mde_proportion,
    plan_sample_size,
    power_mean,
    power_proportion,
    sample_size_mean,
    sample_size_proportion,
)
from shipit.stats.results import ComparisonResult, Status
from shipit.stats.sequential import AlwaysValid, asymptotic_cs, horizon_tau2, msprt, running
from shipit.stats.srm import SrmResult, srm_test

__all__ = [
    "AlwaysValid",
    "Boundaries",
    "ComparisonResult",
    "GroupStats",
    "GstDesign",
    "Moments",
    "Monitoring",
    "PowerPlan",
    "SrmResult",
    "Status",
    "adjust_p_values",
    "asymptotic_cs",
    "classical_bounds",
    "compare",
    "compare_stats",
    "days_needed",
    "horizon_tau2",
    "looks_from_days",
    "mde_mean",
    "mde_proportion",
    "monitor",
    "monitor_moments",
    "msprt",
    "plan_sample_size",
    "power_mean",
    "power_proportion",
    "running",
    "sample_size_mean",
    "sample_size_proportion",
    "spending_bounds",
    "srm_test",
    "summarize",
]
