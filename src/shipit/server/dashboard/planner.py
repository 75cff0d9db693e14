"""The planner form: sample size and duration from ``shipit.stats.power``."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np

from shipit.errors import InputError

__all__ = ["PlannerForm", "PlannerResult", "plan"]


@dataclass(frozen=True)
class PlannerForm:
    """The planner's inputs (the page's query string)."""

    kind: Literal["proportion", "mean"] = "proportion"
    baseline: float = 0.1
    sd: float = 1.0
    mde: float = 0.05
    relative: bool = True
    alpha: float = 0.05
    power: float = 0.8
    variants: int = 2
    daily_units: int = 10_000

    @classmethod
    def from_query(cls, params: dict[str, str]) -> PlannerForm:
        """Parse the form; a bad field raises InputError naming it."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in params or params[f.name] == "":
                continue
            raw = params[f.name]
            try:
                if f.name == "kind":
                    if raw not in ("proportion", "mean"):
                        raise ValueError(raw)
                    values[f.name] = raw
                elif f.name == "relative":
                    values[f.name] = raw.lower() in {"1", "true", "on", "yes"}
                elif f.name in {"variants", "daily_units"}:
                    values[f.name] = int(raw)
                else:
                    values[f.name] = float(raw)
                    if not math.isfinite(values[f.name]):
                        raise ValueError(raw)
            except ValueError as exc:
                raise InputError(f"{f.name}: {raw!r} is not a valid value") from exc
        if "relative" not in params and params:
            values.setdefault("relative", False)
        form = cls(**values)
        if form.variants < 2:
            raise InputError("variants: at least 2 (the control and one variant)")
        if form.daily_units <= 0:
            raise InputError("daily_units: must be positive")
        return form


@dataclass(frozen=True)
class PlannerResult:
    """Units per variant, in total, the days needed and a power curve."""

    per_variant: int
    total: int
    days: int
    curve_n: list[float]
    curve_power: list[float]


def plan(form: PlannerForm) -> PlannerResult:
    """Sample size and duration for ``form``; a power curve around the answer."""
    from shipit.stats import power as pw

    common: dict[str, Any] = {
        "relative": form.relative,
        "alpha": form.alpha,
        "variants": form.variants,
    }
    if form.kind == "proportion":
        n = float(pw.sample_size_proportion(form.baseline, form.mde, power=form.power, **common))
    else:
        n = float(
            pw.sample_size_mean(
                form.sd, form.mde, baseline=form.baseline, power=form.power, **common
            )
        )
    if not math.isfinite(n) or n <= 0:
        raise InputError("the inputs give no finite sample size: check baseline and mde")
    per_variant = math.ceil(n)
    total = per_variant * form.variants
    grid = np.linspace(max(per_variant * 0.1, 2.0), per_variant * 2.0, 40)
    if form.kind == "proportion":
        curve = pw.power_proportion(form.baseline, form.mde, grid, **common)
    else:
        curve = pw.power_mean(form.sd, form.mde, grid, baseline=form.baseline, **common)
    return PlannerResult(
        per_variant=per_variant,
        total=total,
        days=math.ceil(total / form.daily_units),
        curve_n=[float(x) for x in grid],
        curve_power=[float(x) for x in np.asarray(curve)],
    )
