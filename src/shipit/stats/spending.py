"""Lan-DeMets error spending functions: how much of alpha (or beta) is used by time t.

For a one-sided level a and information fraction t in [0, 1]:

- ``obf`` (O'Brien-Fleming type): a(t) = 2 − 2Φ(z_{1−a/2} / √t), spends almost nothing early;
- ``pocock`` (Pocock type): a(t) = a·log(1 + (e − 1)·t), spends evenly;
- ``power`` (Kim-DeMets power family): a(t) = a·t^ρ (ρ = 1 is linear, ρ = 3 is close to OBF).

A two-sided symmetric design of level α spends α/2 on each side with the one-sided
function of level α/2; this is the convention of ``ldbounds`` and ``gsDesign`` under which
the O'Brien-Fleming-type bounds for K = 4 equal looks are 4.3326, 2.9631, 2.3590, 2.0141.
"""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from shipit._types import FloatArray
from shipit.errors import InputError

__all__ = ["SPENDING_KINDS", "SpendingKind", "check_fractions", "spent"]

SpendingKind: TypeAlias = Literal["obf", "pocock", "power"]
SPENDING_KINDS: tuple[str, ...] = get_args(SpendingKind)


def spent(t: npt.ArrayLike, level: float, kind: str, *, rho: float = 2.0) -> FloatArray:
    """Cumulative one-sided error a(t) spent by information fraction t (t ≥ 1 spends all).

    >>> round(float(spent(0.5, 0.025, "power", rho=2.0)[()]), 6)
    0.00625
    """
    if not 0.0 < level < 1.0:
        raise InputError(f"error level must be between 0 and 1, got {level}")
    x = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    if kind == "obf":
        with np.errstate(divide="ignore"):
            q = float(sps.norm.isf(level / 2.0))
            out: FloatArray = np.where(
                x > 0, 2.0 * sps.norm.sf(q / np.sqrt(np.where(x > 0, x, 1.0))), 0.0
            )
    elif kind == "pocock":
        out = level * np.log1p((np.e - 1.0) * x)
    elif kind == "power":
        if not rho > 0:
            raise InputError(f"rho of the power spending family must be > 0, got {rho}")
        out = level * x**rho
    else:
        raise InputError(
            f"unknown spending function {kind!r}: expected one of {', '.join(SPENDING_KINDS)}"
        )
    return np.where(x >= 1.0, level, out)


def check_fractions(fractions: npt.ArrayLike) -> FloatArray:
    """Information fractions as a strictly increasing array in (0, ∞), or an InputError."""
    t = np.asarray(fractions, dtype=np.float64).reshape(-1)
    if t.size == 0:
        raise InputError("fractions: at least one look is needed")
    if not np.all(np.isfinite(t)) or t[0] <= 0:
        raise InputError(f"fractions must be finite and > 0, got {t.tolist()}")
    if np.any(np.diff(t) <= 0):
        raise InputError(f"fractions must be strictly increasing, got {t.tolist()}")
    return t
