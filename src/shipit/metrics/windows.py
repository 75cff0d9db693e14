"""Windows relative to each unit's first exposure, as SQL conditions on an event's time."""

from __future__ import annotations

from collections.abc import Iterable

from shipit.errors import SpecError
from shipit.spec.metric import Window

__all__ = ["bounds", "condition", "offset"]


def offset(column: str, hours: float) -> str:
    """``column`` shifted by a number of hours (whole seconds, so every engine agrees)."""
    seconds = round(hours * 3600)
    if abs(seconds - hours * 3600) > 1e-6:
        raise SpecError(f"window bound {hours} h is not a whole number of seconds")
    if seconds == 0:
        return column
    sign = "+" if seconds > 0 else "-"
    return f"{column} {sign} INTERVAL '{abs(seconds)}' SECOND"


def condition(window: Window, time: str, anchor: str) -> list[str]:
    """Conditions putting ``time`` inside [anchor + start, anchor + end)."""
    out = [f"{time} >= {offset(anchor, window.start_hours)}"]
    if window.end_hours is not None:
        out.append(f"{time} < {offset(anchor, window.end_hours)}")
    return out


def bounds(windows: Iterable[Window], time: str, anchor: str) -> list[str]:
    """Conditions covering the union of windows: a cheap pre-filter for the join."""
    ws = list(windows)
    if not ws:
        return []
    lowest = min(w.start_hours for w in ws)
    ends = [w.end_hours for w in ws]
    widest = Window(
        start_hours=lowest, end_hours=None if None in ends else max(e or 0 for e in ends)
    )
    return condition(widest, time, anchor)
