"""The resend schedule: one minute after a failure, doubling with each resend, at most an
hour apart; within a day and 30 resends (a receiver down for 23 hours still gets it)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from shipit.operate.resend import DEFAULT_RESEND, ResendPolicy


def test_waits_double_from_a_minute_up_to_an_hour() -> None:
    waits = [DEFAULT_RESEND.wait(k) / timedelta(minutes=1) for k in range(9)]
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert DEFAULT_RESEND.wait(10_000) == timedelta(hours=1)


def test_the_default_budget_reaches_a_receiver_down_for_23_hours() -> None:
    # Times of the resends after a failure at 0, each as soon as its wait has passed.
    at, times = timedelta(0), []
    for k in range(DEFAULT_RESEND.max_resends):
        at += DEFAULT_RESEND.wait(k)
        if at > DEFAULT_RESEND.max_age:
            break
        times.append(at)
    assert timedelta(hours=23) <= times[-1] <= timedelta(hours=24)
    assert len(times) == 28  # 6 doubling waits (63 minutes), then hourly
    assert all(b - a <= timedelta(hours=1) for a, b in itertools.pairwise(times))
    assert ResendPolicy(first_wait=timedelta(0)).wait(3) == timedelta(0)
