"""How a result's numbers are written: one formatter for every report, table and reason.

Reports (terminal, Markdown, HTML, dashboard, ``shipit stats`` tables) and the verdict's
reasons write p-values, percentages, intervals, counts and effects through these
functions, so one number reads the same wherever it appears. A missing number (``None``)
is written as ``MISSING``, never as 0 or ``nan``. Pure Python: importing it loads nothing
heavy.

>>> pct(0.134), interval(0.11, 0.158), p_value(3e-5), count(50000)
('+13.40%', '[+11.00%, +15.80%]', '3e-05', '50,000')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "MISSING",
    "count",
    "effect",
    "estimate",
    "fixed",
    "interval",
    "magnitude",
    "num",
    "p_equals",
    "p_value",
    "pct",
    "pct_sig",
    "points",
    "segment",
    "segment_order",
    "share",
    "signed",
]

MISSING = "—"
"""What a missing number reads as, everywhere."""

# The smallest p-value a float keeps before underflowing to 0; a 0 is written as below it.
_P_FLOOR = "1e-300"

Fmt = Callable[[Any], str]


def p_value(p: float | None, alpha: float | None = None) -> str:
    """A p-value to two significant digits; one that underflowed to 0 reads ``<1e-300``.

    Given the test's ``alpha``, a p-value is never rounded onto or across it: more digits
    are written until the printed value is on the same side of α as the p-value itself.

    >>> p_value(0.01234), p_value(0.0), p_value(None), p_value(0.0504, 0.05)
    ('0.012', '<1e-300', '—', '0.0504')
    """
    if p is None:
        return MISSING
    if p == 0:
        return f"<{_P_FLOOR}"
    text = f"{p:.2g}"
    if alpha is not None and p != alpha:
        for digits in range(3, 8):
            shown = float(text)
            if shown != alpha and (shown < alpha) == (p < alpha):
                break
            text = f"{p:.{digits}g}"
    return text


def p_equals(p: float | None, name: str = "p", alpha: float | None = None) -> str:
    """A p-value in prose: ``p = 0.012``, ``p < 1e-300`` when it underflowed to 0.

    >>> p_equals(0.01234), p_equals(0.0, "adjusted p"), p_equals(0.0504, alpha=0.05)
    ('p = 0.012', 'adjusted p < 1e-300', 'p = 0.0504')
    """
    if p is not None and p == 0:
        return f"{name} < {_P_FLOOR}"
    return f"{name} = {p_value(p, alpha)}"


def pct(x: float | None, digits: int = 2) -> str:
    """A signed percentage (a relative effect or lift) with ``digits`` decimals.

    >>> pct(0.0712), pct(-0.02, 1)
    ('+7.12%', '-2.0%')
    """
    return MISSING if x is None else f"{x:+.{digits}%}"


def share(x: float | None, digits: int = 1) -> str:
    """An unsigned percentage (a probability, a power, a share of units).

    >>> share(0.999), share(0.8, 0)
    ('99.9%', '80%')
    """
    return MISSING if x is None else f"{x:.{digits}%}"


def pct_sig(x: float | None, digits: int = 3) -> str:
    """A percentage to ``digits`` significant digits, for small quantities like a loss.

    >>> pct_sig(0.0001234)
    '0.0123%'
    """
    return MISSING if x is None else f"{100 * x:.{digits}g}%"


def num(x: float | bool | None, digits: int = 4) -> str:
    """A number to ``digits`` significant digits; integers in full with thousands
    separators, booleans as yes/no.

    >>> num(268.04), num(50000), num(True), num(0.000123456, 3)
    ('268', '50,000', 'yes', '0.000123')
    """
    if x is None:
        return MISSING
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:.{digits}g}"


def signed(x: float | None, digits: int = 4) -> str:
    """A signed number to ``digits`` significant digits (an absolute effect).

    >>> signed(0.07), signed(-1.5)
    ('+0.07', '-1.5')
    """
    return MISSING if x is None else f"{x:+.{digits}g}"


def fixed(x: float | None, digits: int = 2) -> str:
    """A number with ``digits`` decimals (a test statistic such as z or Cochran's Q).

    >>> fixed(6.1), fixed(1.96, 1)
    ('6.10', '2.0')
    """
    return MISSING if x is None else f"{x:.{digits}f}"


def count(n: float | None) -> str:
    """A count of units, days or events: rounded to a whole number, thousands separated.

    >>> count(49999.6), count(12)
    ('50,000', '12')
    """
    return MISSING if n is None else f"{round(n):,}"


def points(x: float | None) -> str:
    """A number that is already in percent (a rollout step's traffic).

    >>> points(5.0), points(12.5)
    ('5%', '12.5%')
    """
    return MISSING if x is None else f"{x:g}%"


def effect(x: float | None, *, relative: bool = True) -> str:
    """An effect in its unit: a signed percentage when relative, a signed number otherwise.

    >>> effect(0.02), effect(0.5, relative=False)
    ('+2.00%', '+0.5')
    """
    return pct(x) if relative else signed(x)


def magnitude(x: float | None, *, relative: bool = True, digits: int = 2) -> str:
    """An effect's size without a sign (a minimum detectable effect, a margin): a
    percentage with ``digits`` decimals when relative, a number otherwise.

    >>> magnitude(0.02), magnitude(0.02, digits=1), magnitude(1.5, relative=False)
    ('2.00%', '2.0%', '1.5')
    """
    return share(x, digits) if relative else num(x)


def interval(low: float | None, high: float | None, fmt: Fmt = pct) -> str:
    """A bracketed interval, each end written by ``fmt``; ``MISSING`` if an end is missing.

    >>> interval(-0.01, 0.03), interval(1.0, 2.5, num), interval(None, 0.1)
    ('[-1.00%, +3.00%]', '[1, 2.5]', '—')
    """
    if low is None or high is None:
        return MISSING
    return f"[{fmt(low)}, {fmt(high)}]"


def estimate(x: float | None, low: float | None, high: float | None, fmt: Fmt = pct) -> str:
    """An estimate followed by its interval, as reasons and summaries write it.

    >>> estimate(0.05, 0.026, 0.074)
    '+5.00% [+2.60%, +7.40%]'
    """
    if low is None or high is None:
        return fmt(x)
    return f"{fmt(x)} {interval(low, high, fmt)}"


def _as_number(text: str) -> float | None:
    try:
        x = float(text)
    except ValueError:
        return None
    return x if x == x and abs(x) != float("inf") else None


def segment(value: str) -> str:
    """A segment's value as read: a whole number stored as a float (``"10.0"``) reads ``10``.

    >>> segment("10.0"), segment("2.5"), segment("mobile")
    ('10', '2.5', 'mobile')
    """
    x = _as_number(value)
    if x is None or not x.is_integer() or "." not in value or "e" in value.lower():
        return value
    return str(int(x))


def segment_order(value: str) -> tuple[int, float, str]:
    """A sort key putting numeric segment values in numeric order, then the rest by text.

    >>> sorted(["10.0", "2.0", "1.0", "(none)"], key=segment_order)
    ['1.0', '2.0', '10.0', '(none)']
    """
    x = _as_number(value)
    return (0, x, "") if x is not None else (1, 0.0, value)
