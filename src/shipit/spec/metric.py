"""Metric definitions: what to aggregate per unit, over which window, and how to judge it.

A team defines "revenue" once; experiments reference it by name. The metric's kind follows
from its aggregation: ``any`` gives a proportion, a ``ratio`` divides two per-unit
aggregations, ``quantile`` asks for a quantile of the values, everything else is a mean of
per-unit values.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Aggregate", "Covariate", "MetricDef", "Window"]

Aggregation = Literal["sum", "count", "count_distinct", "max", "any"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Window(_Frozen):
    """A window in hours relative to each unit's first exposure: [start, end).

    ``end = None`` runs to the end of the data. Pre-period windows have negative bounds.
    """

    start_hours: float = 0.0
    end_hours: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end_hours is not None and self.end_hours <= self.start_hours:
            raise ValueError(
                f"window end ({self.end_hours} h) must be after its start ({self.start_hours} h)"
            )
        return self


class Aggregate(_Frozen):
    """One per-unit aggregation of one event's values (``value`` column by default)."""

    event: str = Field(min_length=1)
    aggregation: Aggregation = "sum"
    value: str = "value"


class Covariate(_Frozen):
    """A pre-period covariate for CUPED: an aggregate over a window before first exposure,
    or a column of the ``units`` table (``column``)."""

    name: str = Field(min_length=1)
    event: str | None = None
    aggregation: Aggregation = "sum"
    value: str = "value"
    column: str | None = None
    window: Window = Window(start_hours=-14 * 24, end_hours=0.0)

    @model_validator(mode="after")
    def _one_source(self) -> Covariate:
        if (self.event is None) == (self.column is None):
            raise ValueError("a covariate takes either an event or a units-table column")
        return self


class MetricDef(_Frozen):
    """A metric: per-unit aggregation(s) within a window, optional winsorizing and CUPED."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    description: str = ""
    event: str | None = None
    aggregation: Aggregation = "sum"
    value: str = "value"
    numerator: Aggregate | None = None
    denominator: Aggregate | None = None
    window: Window = Window()
    winsorize: float | None = Field(default=None, gt=0.5, lt=1.0)
    covariates: tuple[Covariate, ...] = ()
    higher_is_better: bool = True
    # A quantile metric (0 < q < 1) of every event's value, or of the per-unit values.
    quantile: float | None = Field(default=None, gt=0.0, lt=1.0)
    quantile_of: Literal["events", "units"] = "events"
    # Rank test and bootstrap interval (docs/metric-tests.md): ``test: mann_whitney`` on a
    # per-unit metric; ``interval: bootstrap`` (Poisson bootstrap over units, in the engine)
    # with ``resamples`` and ``seed``.
    test: Literal["default", "mann_whitney"] = "default"
    interval: Literal["default", "bootstrap"] = "default"
    resamples: int = Field(default=1000, ge=100, le=100_000)
    seed: int = Field(default=0, ge=0, lt=2**31)

    @model_validator(mode="after")
    def _test_and_interval(self) -> MetricDef:
        problem = _test_problem(self)
        if problem:
            raise ValueError(f"metric {self.name!r}: {problem}")
        return self

    @model_validator(mode="after")
    def _shape(self) -> MetricDef:
        ratio = self.numerator is not None or self.denominator is not None
        if ratio and (self.numerator is None or self.denominator is None):
            raise ValueError("a ratio metric needs both numerator and denominator")
        if ratio and self.event is not None:
            raise ValueError("a ratio metric takes numerator/denominator, not event")
        if not ratio and self.event is None:
            raise ValueError("a metric needs an event (or a numerator and denominator)")
        problem = _quantile_problem(self, ratio)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def kind(self) -> Literal["proportion", "mean", "ratio", "quantile", "rank", "bootstrap"]:
        """The statistical kind the definition implies."""
        if self.test == "mann_whitney":
            return "rank"
        if self.interval == "bootstrap":
            return "bootstrap"
        return self.base_kind

    @property
    def base_kind(self) -> Literal["proportion", "mean", "ratio", "quantile"]:
        """The kind of the estimand, whatever its test or interval."""
        if self.quantile is not None:
            return "quantile"
        if self.numerator is not None:
            return "ratio"
        return "proportion" if self.aggregation == "any" else "mean"


def _quantile_problem(m: MetricDef, ratio: bool) -> str | None:
    """What is wrong with a definition's quantile fields, if anything."""
    if m.quantile is None:
        return (
            "quantile_of needs quantile (e.g. quantile: 0.95)"
            if m.quantile_of != "events"
            else None
        )
    if ratio:
        return "a quantile metric takes an event, not numerator/denominator"
    if m.winsorize is not None:
        return "a quantile metric cannot be winsorized (quantiles resist outliers)"
    if m.covariates:
        return "a quantile metric takes no covariates: CUPED does not apply to quantiles"
    if m.quantile_of == "events" and m.aggregation != "sum":
        return (
            "quantile_of: events takes every event's value; an aggregation applies to "
            "quantile_of: units (the quantile of per-unit values)"
        )
    return None


def _test_problem(m: MetricDef) -> str | None:
    """What is wrong with a definition's ``test`` and ``interval`` fields, if anything."""
    if m.test == "mann_whitney":
        if m.numerator is not None or m.quantile is not None:
            return (
                "test: mann_whitney takes a per-unit metric (an event's aggregate), "
                "not a ratio or a quantile"
            )
        if m.interval == "bootstrap":
            return "test: mann_whitney has its own interval; drop interval: bootstrap"
        if m.covariates:
            return "test: mann_whitney takes no covariates (CUPED does not apply to ranks)"
        if m.winsorize is not None:
            return "test: mann_whitney cannot be winsorized (ranks resist outliers)"
    if m.interval == "bootstrap" and m.covariates:
        return "interval: bootstrap takes no covariates (the bootstrap is of the raw estimate)"
    return None
