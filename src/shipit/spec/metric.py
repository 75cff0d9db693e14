"""Metric definitions: what to aggregate per unit, over which window, and how to judge it.

A team defines "revenue" once; experiments reference it by name. The metric's kind follows
from its aggregation: ``any`` gives a proportion, a ``ratio`` divides two per-unit
aggregations, ``quantile`` asks for a quantile of the values, ``funnel`` for the share of
units doing its steps in order, everything else is a mean of per-unit values. ``where``
filters the events on their properties; ``winsorize`` and ``cap`` cap per-unit values
(docs/metrics.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

__all__ = ["Aggregate", "Cap", "Covariate", "Filter", "MetricDef", "Window", "Winsorize"]

Aggregation = Literal["sum", "count", "count_distinct", "max", "any", "active_days"]
FilterOp = Literal["eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "is_null", "not_null"]
Scalar = str | bool | int | float


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


# --- filters on event properties (``where``) ------------------------------------------


class Filter(_Frozen):
    """One condition on an event property (a column of the events table), never SQL text:
    ``{property: country, op: eq, value: fr}``. Comparisons never match a missing (null)
    property; ``is_null`` / ``not_null`` test for it."""

    property: str = Field(min_length=1)
    op: FilterOp = "eq"
    value: Scalar | tuple[Scalar, ...] | None = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Filter:
        if self.op in ("is_null", "not_null"):
            if self.value is not None:
                raise ValueError(f"filter on {self.property!r}: {self.op} takes no value")
        elif self.op in ("in", "not_in"):
            if not isinstance(self.value, tuple) or not self.value:
                raise ValueError(
                    f"filter on {self.property!r}: {self.op} takes a non-empty list of values"
                )
        elif self.value is None or isinstance(self.value, tuple):
            raise ValueError(f"filter on {self.property!r}: {self.op} takes one value")
        return self

    def listed(self) -> tuple[Scalar, ...]:
        """The filter's values as a tuple (empty for the null tests)."""
        if self.value is None:
            return ()
        return self.value if isinstance(self.value, tuple) else (self.value,)


Where = tuple[Filter, ...]


# --- capping (``winsorize`` with both tails, ``cap``) ------------------------------------


class Winsorize(_Frozen):
    """Pooled quantile caps of the per-unit values: ``{lower: 0.01, upper: 0.99}``
    (``winsorize: 0.99`` is ``{upper: 0.99}``)."""

    lower: float | None = Field(default=None, gt=0.0, lt=1.0)
    upper: float | None = Field(default=None, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _some(self) -> Winsorize:
        if self.lower is None and self.upper is None:
            raise ValueError("winsorize takes lower, upper or both (e.g. {upper: 0.99})")
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise ValueError(
                f"winsorize lower ({self.lower}) must be below its upper ({self.upper})"
            )
        return self


def _winsorize_form(value: object) -> str:
    return "tails" if isinstance(value, dict | Winsorize) else "upper"


# One form validated at a time, so that an error speaks of the form that was given.
WinsorizeSpec = Annotated[
    Annotated[float, Field(gt=0.5, lt=1.0), Tag("upper")] | Annotated[Winsorize, Tag("tails")],
    Discriminator(_winsorize_form),
]


class Cap(_Frozen):
    """Absolute caps of the per-unit values: ``{max: 1000}``, ``{min: 0}`` or both."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Cap:
        if self.min is None and self.max is None:
            raise ValueError("cap takes min, max or both (e.g. {max: 1000})")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"cap min ({self.min}) must not exceed its max ({self.max})")
        return self


class Aggregate(_Frozen):
    """One per-unit aggregation of one event's values (``value`` column by default) of the
    events passing ``where``, or a column of a per-unit table (``column``, for an experiment
    with a ``source``)."""

    event: str | None = Field(default=None, min_length=1)
    aggregation: Aggregation = "sum"
    value: str = "value"
    where: Where = ()
    column: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> Aggregate:
        if (self.event is None) == (self.column is None):
            raise ValueError("a numerator or denominator takes either an event or a column")
        if self.column is not None and self.where:
            raise ValueError("a column of a per-unit table takes no where filter")
        return self


class Covariate(_Frozen):
    """A pre-period covariate for CUPED: an aggregate over a window before first exposure,
    or a column of the ``units`` table (``column``)."""

    name: str = Field(min_length=1)
    event: str | None = None
    aggregation: Aggregation = "sum"
    value: str = "value"
    column: str | None = None
    window: Window = Window(start_hours=-14 * 24, end_hours=0.0)
    where: Where = ()

    @model_validator(mode="after")
    def _one_source(self) -> Covariate:
        if (self.event is None) == (self.column is None):
            raise ValueError("a covariate takes either an event or a units-table column")
        if self.where and self.column is not None:
            raise ValueError("where filters events: a units-table covariate takes none")
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
    # A column of a per-unit table (an experiment with a ``source``): the unit's value.
    column: str | None = Field(default=None, min_length=1)
    window: Window = Window()
    # ``winsorize: 0.99`` (the upper pooled quantile cap) or ``{lower: 0.01, upper: 0.99}``.
    winsorize: WinsorizeSpec | None = None
    covariates: tuple[Covariate, ...] = ()
    higher_is_better: bool = True
    # A quantile metric (0 < q < 1) of every event's value, or of the per-unit values.
    quantile: float | None = Field(default=None, gt=0.0, lt=1.0)
    quantile_of: Literal["events", "units"] = "events"
    # The metric language: filters, funnels, absolute caps (see docs/metrics.md).
    where: Where = ()
    cap: Cap | None = None
    funnel: tuple[str, ...] | None = None
    within_hours: float | None = Field(default=None, gt=0.0)

    @model_validator(mode="after")
    def _language(self) -> MetricDef:
        problem = _funnel_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def winsorize_lower(self) -> float | None:
        """The lower pooled quantile cap, if any."""
        return self.winsorize.lower if isinstance(self.winsorize, Winsorize) else None

    @property
    def winsorize_upper(self) -> float | None:
        """The upper pooled quantile cap, if any."""
        if isinstance(self.winsorize, Winsorize):
            return self.winsorize.upper
        return self.winsorize

    @property
    def is_capped(self) -> bool:
        """Whether the per-unit values are capped (absolute or pooled quantile caps)."""
        return self.winsorize is not None or self.cap is not None

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
        if ratio and self.column is not None:
            raise ValueError("a ratio metric takes numerator/denominator, not column")
        if self.event is not None and self.column is not None:
            raise ValueError("a metric takes an event or a column (of a per-unit table), not both")
        if self.funnel is not None and self.column is not None:
            raise ValueError("a funnel metric takes funnel steps, not a column")
        if not ratio and self.event is None and self.column is None and self.funnel is None:
            raise ValueError(
                "a metric needs an event (or a numerator and denominator, a funnel, "
                "or a column of a per-unit table)"
            )
        problem = _quantile_problem(self, ratio)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def kind(
        self,
    ) -> Literal["proportion", "mean", "ratio", "quantile", "funnel", "rank", "bootstrap"]:
        """The statistical kind the definition implies."""
        if self.test == "mann_whitney":
            return "rank"
        if self.interval == "bootstrap":
            return "bootstrap"
        return self.base_kind

    @property
    def base_kind(self) -> Literal["proportion", "mean", "ratio", "quantile", "funnel"]:
        """The kind of the estimand, whatever its test or interval."""
        if self.funnel is not None:
            return "funnel"
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
    if m.is_capped:
        return "a quantile metric cannot be winsorized or capped (quantiles resist outliers)"
    if m.covariates:
        return "a quantile metric takes no covariates: CUPED does not apply to quantiles"
    if m.quantile_of == "events" and m.aggregation != "sum":
        return (
            "quantile_of: events takes every event's value; an aggregation applies to "
            "quantile_of: units (the quantile of per-unit values)"
        )
    return None


def _funnel_problem(m: MetricDef) -> str | None:
    """What is wrong with a definition's funnel fields, if anything."""
    if m.funnel is None:
        return "within_hours needs a funnel" if m.within_hours is not None else None
    if len(m.funnel) < 2:
        return "a funnel needs at least two steps (e.g. funnel: [view_item, purchase])"
    if any(not step for step in m.funnel):
        return "a funnel step names an event: empty step"
    if m.event is not None or m.numerator is not None or m.quantile is not None:
        return "a funnel metric takes funnel steps, not event, numerator or quantile"
    if m.is_capped or m.covariates:
        return "a funnel metric is a proportion: no winsorize, cap or covariates"
    return None


def _test_problem(m: MetricDef) -> str | None:
    """What is wrong with a definition's ``test`` and ``interval`` fields, if anything."""
    if m.funnel is not None and (m.test != "default" or m.interval != "default"):
        return "a funnel metric takes no test or interval option (its steps have intervals)"
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
        if m.is_capped:
            return "test: mann_whitney cannot be winsorized (ranks resist outliers)"
    if m.interval == "bootstrap" and m.covariates:
        return "interval: bootstrap takes no covariates (the bootstrap is of the raw estimate)"
    return None
