"""Wording shared by the decision messages."""

from __future__ import annotations


def fmt_p(p: float, name: str = "p") -> str:
    """``p = 0.012``; a p-value that underflowed to 0 reads ``p < 1e-300``, not ``p = 0``."""
    return f"{name} < 1e-300" if p == 0 else f"{name} = {p:.2g}"
