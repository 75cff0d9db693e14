"""The resend schedule: one minute after a failure, doubling with each resend, at most an
hour apart; within a day and 30 resends (a receiver down for 23 hours still gets it)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from shipit.operate.resend import DEFAULT_RESEND, ResendPolicy, Resent


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


def test_shipit_monitor_prints_one_line_per_resend(capsys: pytest.CaptureFixture[str]) -> None:
    from shipit.cli.commands.monitor import _print
    from shipit.operate.monitor import MonitorRun

    run = MonitorRun(
        ran=True,
        resent=(
            Resent("shop", "http://h/hook", 3, 7, True),
            Resent("cart", "http://h/hook", 4, 8, False, "HTTP 503 Unavailable"),
        ),
    )
    _print(run)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        "shop: resent failed delivery 3 to http://h/hook: delivered",
        "cart: resent failed delivery 4 to http://h/hook: failed again: HTTP 503 Unavailable",
    ]
