"""The exposure-timing trust check: are a metric's events stamped after their exposure?

Exposures logged after the events they caused (a late exposure stamp, a shifted clock)
put every event before its unit's first exposure: each post-exposure metric reads 0 and
the experiment looks flat. This check names the share instead of letting that pass.
"""

from __future__ import annotations

from collections.abc import Mapping

from shipit.errors import InputError
from shipit.result.model import CheckStatus, TrustCheck

__all__ = ["BEFORE_EXPOSURE_FAIL", "events_before_exposure_check"]

# More than this share of a metric's events before their unit's first exposure fails.
BEFORE_EXPOSURE_FAIL = 0.5


def events_before_exposure_check(
    timing: Mapping[str, tuple[int, int]], *, fail_share: float = BEFORE_EXPOSURE_FAIL
) -> TrustCheck:
    """``timing`` maps each post-exposure metric to (its events by exposed units since the
    experiment began, those stamped before the unit's first exposure); most of them before
    fails, naming the metrics and their shares."""
    shares: dict[str, float] = {}
    for metric, (events, before) in timing.items():
        if events < 0 or not 0 <= before <= events:
            raise InputError(f"{metric}: need 0 <= before ({before}) <= events ({events})")
        if events:
            shares[metric] = before / events
    bad = {m: s for m, s in shares.items() if s > fail_share}
    status: CheckStatus = "fail" if bad else "pass"
    if bad:
        listed = ", ".join(f"{m} {s:.0%}" for m, s in sorted(bad.items(), key=lambda x: -x[1]))
        message = (
            f"most events fall before their unit's first exposure ({listed}): exposures may "
            "be stamped after the events they caused, and those events count as 0"
        )
    elif shares:
        worst = max(shares.items(), key=lambda x: x[1])
        message = f"events follow their exposures (at most {worst[1]:.0%} before, {worst[0]})"
    else:
        message = "no events of the metrics since the experiment began"
    return TrustCheck(
        name="events_before_exposure",
        status=status,
        message=message,
        statistic=max(shares.values()) if shares else None,
        details={f"share_{m}": s for m, s in shares.items()},
    )
