"""Pure numerics on sufficient statistics (Moments): no I/O, no raw rows, vectorized."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipit._lazy import lazy_names

if TYPE_CHECKING:
    from shipit.stats.comparison import Comparison, compare_moments, normal_posterior
    from shipit.stats.estimands import GroupStats, summarize
    from shipit.stats.frequentist import compare, compare_stats
    from shipit.stats.gst import Boundaries, GstDesign, classical_bounds, spending_bounds
    from shipit.stats.moments import Moments
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
    "Comparison",
    "ComparisonResult",
    "GroupStats",
    "GstDesign",
    "Moments",
    "PowerPlan",
    "SrmResult",
    "Status",
    "adjust_p_values",
    "asymptotic_cs",
    "classical_bounds",
    "compare",
    "compare_moments",
    "compare_stats",
    "days_needed",
    "horizon_tau2",
    "mde_mean",
    "mde_proportion",
    "msprt",
    "normal_posterior",
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

# Each public name and the module that defines it; loaded on first use.
_WHERE: dict[str, str] = {
    "AlwaysValid": "shipit.stats.sequential",
    "Boundaries": "shipit.stats.gst",
    "Comparison": "shipit.stats.comparison",
    "ComparisonResult": "shipit.stats.results",
    "GroupStats": "shipit.stats.estimands",
    "GstDesign": "shipit.stats.gst",
    "Moments": "shipit.stats.moments",
    "PowerPlan": "shipit.stats.power",
    "SrmResult": "shipit.stats.srm",
    "Status": "shipit.stats.results",
    "adjust_p_values": "shipit.stats.multiple",
    "asymptotic_cs": "shipit.stats.sequential",
    "classical_bounds": "shipit.stats.gst",
    "compare": "shipit.stats.frequentist",
    "compare_moments": "shipit.stats.comparison",
    "normal_posterior": "shipit.stats.comparison",
    "compare_stats": "shipit.stats.frequentist",
    "days_needed": "shipit.stats.power",
    "horizon_tau2": "shipit.stats.sequential",
    "mde_mean": "shipit.stats.power",
    "mde_proportion": "shipit.stats.power",
    "msprt": "shipit.stats.sequential",
    "plan_sample_size": "shipit.stats.power",
    "power_mean": "shipit.stats.power",
    "power_proportion": "shipit.stats.power",
    "running": "shipit.stats.sequential",
    "sample_size_mean": "shipit.stats.power",
    "sample_size_proportion": "shipit.stats.power",
    "spending_bounds": "shipit.stats.gst",
    "srm_test": "shipit.stats.srm",
    "summarize": "shipit.stats.estimands",
}


__getattr__, __dir__ = lazy_names(globals(), _WHERE)
