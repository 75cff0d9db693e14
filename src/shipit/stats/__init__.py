"""Pure numerics on sufficient statistics (Moments): no I/O, no raw rows, vectorized."""

from __future__ import annotations

from shipit.stats.frequentist import compare, compare_stats
from shipit.stats.moments import Moments
from shipit.stats.results import ComparisonResult, Status

__all__ = ["ComparisonResult", "Moments", "Status", "compare", "compare_stats"]
