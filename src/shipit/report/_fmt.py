"""Number formats shared by the Markdown and terminal reports: lifts, intervals, p-values."""

from __future__ import annotations

__all__ = ["interval", "p_text", "pct"]


def pct(x: float | None) -> str:
    """A signed percentage, or a dash when missing."""
    return "–" if x is None else f"{x:+.2%}"


def p_text(x: float | None) -> str:
    """A p-value to two significant digits (an underflow shows as < 1e-300)."""
    return "–" if x is None else "<1e-300" if x == 0 else f"{x:.2g}"


def interval(low: float | None, high: float | None) -> str:
    """A bracketed interval of signed percentages."""
    return f"[{pct(low)}, {pct(high)}]"
