"""Cluster-robust comparisons from moments: the cluster is the unit of analysis.

When whole clusters are randomized, units of a cluster are not independent, and the unit
level variance understates the truth (by the design effect 1 + (m − 1)·ICC). Each arm's
mean Σy/Σn is instead a ratio of cluster totals, whose variance comes from the delta method
on the totals (Y_c, N_c) over clusters: the ratio estimator of ``estimands.summarize``
applied to clusters rather than units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from shipit.errors import InputError
from shipit.stats.frequentist import compare
from shipit.stats.moments import Moments
from shipit.stats.results import ComparisonResult

__all__ = ["cluster_totals", "compare_clustered"]


def cluster_totals(
    cells: Moments, arms: Sequence[str] | npt.NDArray[np.str_], labels: Sequence[str], kind: str
) -> Moments:
    """Moments over clusters of z = [num, den] (cluster totals), one group per arm label.

    ``cells`` holds one group per cluster (its units' moments); ``arms[i]`` is the arm of
    cell i. For a mean or proportion, num = Σy and den = n of the cluster; for a ratio, the
    cluster sums of the numerator and the denominator.
    """
    if len(arms) != len(cells):
        raise InputError(f"{len(arms)} arms for {len(cells)} cluster cells")
    if kind == "ratio":
        num, den = cells.sum("num"), cells.sum("den")
    elif kind in ("mean", "proportion"):
        num, den = cells.sum("y"), cells.n
    else:
        raise InputError(f"cluster-robust analysis needs a mean, proportion or ratio, not {kind!r}")
    return Moments.from_arrays(
        np.asarray(arms, dtype=str), {"num": num, "den": den}, labels=list(labels)
    )


def compare_clustered(
    control: Moments,
    variant: Moments,
    *,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> ComparisonResult:
    """Variant vs control, each a row of cluster-total moments (``cluster_totals``): a
    delta-method z-test whose n counts clusters."""
    return compare(control, variant, "ratio", alpha=alpha, alternative=alternative)
