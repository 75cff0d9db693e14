"""The days after its exposure day on which a unit's cumulative value can change: an event
in a window ending E hours after an exposure late in its day falls at most ceil(E/24) days
after that day."""

from __future__ import annotations

import pytest

from shipit.metrics.daily import span_days


@pytest.mark.parametrize(
    ("ends", "span"),
    [([336.0], 15), ([24.0], 2), ([30.5, 48.0], 3), ([1.0], 2), ([0.0], 1), ([-12.0], 1)],
)
def test_span_covers_the_latest_event_day(ends: list[float | None], span: int) -> None:
    assert span_days(ends) == span


def test_an_open_window_has_no_span() -> None:
    assert span_days([24.0, None]) is None


def test_the_span_bounds_every_event_of_the_window() -> None:
    # Exposure a microsecond before midnight, event a microsecond before the window ends.
    hours = 336.0
    exposure_hour = 24.0 - 1e-6 / 3600
    latest = exposure_hour + hours - 1e-6 / 3600
    assert int(latest // 24) < span_days([hours])
